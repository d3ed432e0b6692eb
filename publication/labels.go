package publication

import "strings"

// Labels are the names readers see for tags and types that are written as
// identifiers ("guideachat" → "Guides d’achat"), keyed by Slug, so that
// every spelling of a tag gets its label.
type Labels map[string]string

// NewLabels keys a name → label map by the names' slugs; entries with an
// empty name or label are left out.
func NewLabels(m map[string]string) Labels {
	if len(m) == 0 {
		return nil
	}
	l := make(Labels, len(m))
	for name, label := range m {
		if s, label := Slug(name), strings.TrimSpace(label); s != "" && label != "" {
			l[s] = label
		}
	}
	return l
}

// Of returns the label of a tag or type, else the name itself.
func (l Labels) Of(name string) string {
	if len(l) > 0 {
		if label, ok := l[Slug(name)]; ok {
			return label
		}
	}
	return name
}
