package feed

import _ "embed"

// xslSheet is the stylesheet RSS and Atom feeds link to, so that a feed
// opened in a browser reads as a page explaining what it is (in French and
// English) and listing its items.
//
//go:embed feed.xsl
var xslSheet string
