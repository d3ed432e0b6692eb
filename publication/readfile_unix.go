//go:build unix

package publication

import (
	"errors"
	"io/fs"
	"syscall"
)

// errNotRegular is the error for a content file that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// readLimited reads a file whose size is at most limit; a larger file is
// not read (nil data, its size). Content folders hold tens of thousands of
// small files, so this costs four system calls per file (open, fstat, one
// read, close) where os.Open and io.ReadAll make about a dozen: os.File
// registers each file with the poller and reads in growing chunks.
func readLimited(path string, limit int64) ([]byte, int64, error) {
	var fd int
	var err error
	for {
		// O_NONBLOCK: opening a named pipe must not wait for a writer
		// (it is then refused below); regular files ignore the flag.
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
	case syscall.S_IFDIR:
		return nil, 0, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	default: // a pipe, socket or device: reading it could block or never end
		return nil, 0, &fs.PathError{Op: "read", Path: path, Err: errNotRegular}
	}
	size := st.Size
	if size > limit {
		return nil, size, nil
	}
	// One byte more than the size: a file that grew since fstat fills it.
	buf := make([]byte, size+1)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
		if int64(n) == size {
			break // all fstat announced: no need for a read that returns 0
		}
	}
	if n == len(buf) { // the file grew while being read
		return readGrown(path, limit)
	}
	return buf[:n], int64(n), nil
}
