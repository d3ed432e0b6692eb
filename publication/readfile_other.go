//go:build !unix

package publication

import "os"

// readLimited reads a file whose size is at most limit; a larger file is
// not read (nil data, its size).
func readLimited(path string, limit int64) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if fi.Size() > limit {
		return nil, fi.Size(), nil
	}
	return readUpTo(f, limit) // a file that grew while being read is over the limit
}
