package publication

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// mediaTypes maps file extensions to MIME types. It is fixed here rather
// than read from the system's mime.types so that outputs do not depend on
// the machine that builds them.
var mediaTypes = map[string]string{
	".mp3":  "audio/mpeg",
	".m4a":  "audio/mp4",
	".aac":  "audio/aac",
	".oga":  "audio/ogg",
	".ogg":  "audio/ogg",
	".opus": "audio/ogg",
	".wav":  "audio/wav",
	".flac": "audio/flac",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".webm": "video/webm",
	".ogv":  "video/ogg",
	".mov":  "video/quicktime",
	".pdf":  "application/pdf",
	".epub": "application/epub+zip",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".webp": "image/webp",
	".avif": "image/avif",
	".svg":  "image/svg+xml",
}

// MediaType returns the MIME type of a file name or URL by its extension,
// or "" when unknown.
func MediaType(name string) string {
	if u, err := url.Parse(name); err == nil {
		name = u.Path
	}
	return mediaTypes[strings.ToLower(path.Ext(name))]
}

// mediaRef is an enclosure as written in front matter, before resolution.
type mediaRef struct {
	url    string
	typ    string
	length int64
}

// mediaRefs reads audio/video/enclosure values: a URL string, a map with
// url|src|path, type and length, or a list of those.
func mediaRefs(v any) ([]mediaRef, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		return []mediaRef{{url: strings.TrimSpace(x)}}, nil
	case map[string]any:
		var r mediaRef
		for _, k := range []string{"url", "src", "path", "href"} {
			if s, ok := x[k].(string); ok && s != "" {
				r.url = strings.TrimSpace(s)
				break
			}
		}
		if r.url == "" {
			return nil, fmt.Errorf("needs a url")
		}
		if s, ok := x["type"].(string); ok {
			r.typ = strings.TrimSpace(s)
		}
		switch l := x["length"].(type) {
		case int64:
			r.length = l
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("length %q is not a number of bytes", l)
			}
			r.length = n
		case nil:
		default:
			return nil, fmt.Errorf("length must be a number of bytes")
		}
		if r.length < 0 {
			return nil, fmt.Errorf("length cannot be negative")
		}
		return []mediaRef{r}, nil
	case []any:
		var out []mediaRef
		for _, e := range x {
			rs, err := mediaRefs(e)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a URL or a map with url, type and length")
}

// localSize finds the file a site URL points to under one of roots and
// returns its size. Only URLs on the site itself are looked up, and never
// outside the roots.
func localSize(abs *url.URL, site *url.URL, roots []string) (int64, bool) {
	if abs == nil || site == nil || !strings.EqualFold(abs.Host, site.Host) {
		return 0, false
	}
	p := abs.Path
	if base := site.Path; base != "" && base != "/" {
		if !strings.HasPrefix(p, base) {
			return 0, false
		}
		p = "/" + strings.TrimPrefix(p, base)
	}
	clean := path.Clean("/" + p)
	if clean == "/" {
		return 0, false
	}
	for _, root := range roots {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(clean)))
		if err == nil && fi.Mode().IsRegular() {
			return fi.Size(), true
		}
	}
	return 0, false
}
