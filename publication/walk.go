package publication

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// errLinkNotFollowed is given to a walkFunc for a symbolic link to a folder
// that walkTree does not enter; the error wrapping it says why.
var errLinkNotFollowed = errors.New("symbolic link not followed")

// walkFunc is called by walkTree for every file and folder: p is the path
// to open, rel the slash-separated path below the root ("." for the root),
// d the entry (for a symbolic link that was followed, its target's), err a
// problem with this entry. Returning fs.SkipDir for a folder skips it.
type walkFunc func(p, rel string, d fs.DirEntry, err error) error

// walkTree walks the folder root in lexical order, like filepath.WalkDir,
// and also goes into symbolic links to folders (root may be one), as Eleventy does: a site
// may link in a folder it shares with another project. A link to a folder
// that is read anyway (inside root, or inside a linked folder being read)
// or that would loop is not entered: fn gets it with an error wrapping
// errLinkNotFollowed. A link to a file gets its target's entry.
func walkTree(root string, fn walkFunc) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		real = root // WalkDir reports the problem
	}
	real, _ = filepath.Abs(real)
	// From the real path: a root that is itself a link is entered too.
	return walkFrom(real, ".", []string{real}, fn)
}

// walkFrom walks dir, whose path below the root is relDir; chain holds the
// real paths of the root and of the linked folders dir is inside.
func walkFrom(dir, relDir string, chain []string, fn walkFunc) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		sub, _ := filepath.Rel(dir, p)
		rel := path.Join(relDir, filepath.ToSlash(sub))
		if p == dir && relDir != "." && err == nil {
			return nil // the linked folder itself was given to fn already
		}
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return fn(p, rel, d, err)
		}
		// For WalkDir a link is a file, for which fs.SkipDir would skip the
		// rest of its folder: here it only means "not this link".
		link := func(d fs.DirEntry, err error) error {
			if err := fn(p, rel, d, err); !errors.Is(err, fs.SkipDir) {
				return err
			}
			return nil
		}
		target, err := os.Stat(p)
		if err != nil {
			return link(d, err)
		}
		td := fs.FileInfoToDirEntry(target)
		if !target.IsDir() {
			return link(td, nil)
		}
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			real, err = filepath.Abs(real)
		}
		if err != nil {
			return link(td, err)
		}
		for _, c := range chain {
			if within(c, real) {
				return link(td, fmt.Errorf("%w: it points to a folder that contains it (a loop)", errLinkNotFollowed))
			}
			if within(real, c) {
				return link(td, fmt.Errorf("%w: it points to a folder that is read anyway", errLinkNotFollowed))
			}
		}
		if err := fn(p, rel, td, nil); err != nil {
			if errors.Is(err, fs.SkipDir) {
				return nil
			}
			return err
		}
		return walkFrom(real, rel, append(chain[:len(chain):len(chain)], real), fn)
	})
}

// within reports whether path p is dir or inside it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// Fingerprint summarises the content folder's tree — paths, sizes and
// modification times, through symbolic links as Load reads them — so that
// a periodic scan notices any change without reading the files. A part of
// the tree that cannot be read counts as such, and does not stop the scan.
func Fingerprint(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	if _, err := os.Stat(dir); err != nil {
		return "", err
	}
	h := sha256.New()
	err := walkTree(dir, func(p, rel string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s\x00error\x00%v\n", rel, err)
			if d != nil && d.IsDir() && p != dir {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			fmt.Fprintf(h, "%s\x00error\x00%v\n", rel, err)
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%v\n", rel, fi.Size(), fi.ModTime().UnixNano(), d.IsDir())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("publication: scan %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
