//go:build !unix

package publication

import (
	"io"
	"os"
)

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
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(data)) > limit { // the file grew while being read
		return nil, int64(len(data)), nil
	}
	return data, int64(len(data)), nil
}
