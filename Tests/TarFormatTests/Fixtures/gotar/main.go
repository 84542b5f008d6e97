// gotar: Go archive/tar reference writer and lister for the tar differential tests.
//
//	gotar write --format pax|gnu [--uid N] [--gid N] [--uname NAME] [--gname NAME] SRC OUT
//	    Writes OUT, a tar of directory SRC. Member names are base(SRC)/relpath,
//	    directories end in "/". The walk is filepath.WalkDir (entries sorted by
//	    byte order). Headers come from tar.FileInfoHeader; atime/ctime are
//	    cleared so output is deterministic; hard links are detected by
//	    (dev, inode); user.* xattrs of regular files and directories are stored
//	    as PAXRecords SCHILY.xattr.* (pax only; gnu cannot carry them).
//	    --uid/--gid/--uname/--gname override the values from stat and the
//	    names looked up in /etc/passwd and /etc/group.
//
//	gotar list [--sha256] ARCHIVE
//	    Prints one JSON object per member (JSON Lines) with the keys
//	    path, type, size, mode, uid, gid, uname, gname, mtime,
//	    linkname (symlink/hardlink only), devmajor/devminor (char/block only),
//	    xattrs (only when SCHILY.xattr.* records exist). path is hdr.Name as Go
//	    returns it (directories keep their trailing "/"). gzip and bzip2
//	    input is decompressed. Exit 1 on a read error.
//	    --sha256 (not part of the ckpt schema) adds "sha256", the hex digest of
//	    the content Go's reader returns, for type "file" (sparse holes as zeros).
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const xattrPrefix = "SCHILY.xattr."

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "write":
		fsFlags := flag.NewFlagSet("write", flag.ExitOnError)
		format := fsFlags.String("format", "pax", "pax or gnu")
		uname := fsFlags.String("uname", "", "override uname")
		gname := fsFlags.String("gname", "", "override gname")
		uid := fsFlags.Int("uid", -1, "override uid")
		gid := fsFlags.Int("gid", -1, "override gid")
		fsFlags.Parse(os.Args[2:])
		if fsFlags.NArg() != 2 {
			usage()
		}
		if err := write(*format, *uname, *gname, *uid, *gid, fsFlags.Arg(0), fsFlags.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "gotar write:", err)
			os.Exit(1)
		}
	case "list":
		args := os.Args[2:]
		digest := false
		if len(args) == 2 && args[0] == "--sha256" {
			digest, args = true, args[1:]
		}
		if len(args) != 1 {
			usage()
		}
		if err := list(args[0], digest); err != nil {
			fmt.Fprintln(os.Stderr, "gotar list:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gotar write --format pax|gnu [--uid N] [--gid N] [--uname N] [--gname N] SRC OUT\n       gotar list [--sha256] ARCHIVE")
	os.Exit(2)
}

// ---------------------------------------------------------------- writer

func userXattrs(path string) (map[string]string, error) {
	buf := make([]byte, 64*1024)
	n, err := syscall.Listxattr(path, buf)
	if err != nil {
		if err == syscall.ENOTSUP || err == syscall.EOPNOTSUPP {
			return nil, nil
		}
		return nil, err
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if !strings.HasPrefix(name, "user.") {
			continue
		}
		vbuf := make([]byte, 64*1024)
		m, err := syscall.Getxattr(path, name, vbuf)
		if err != nil {
			return nil, err
		}
		out[name] = string(vbuf[:m])
	}
	return out, nil
}

func write(format, uname, gname string, uid, gid int, src, out string) error {
	var tf tar.Format
	switch format {
	case "pax":
		tf = tar.FormatPAX
	case "gnu":
		tf = tar.FormatGNU
	default:
		return fmt.Errorf("unknown format %q", format)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	tw := tar.NewWriter(bw)
	src = filepath.Clean(src)
	base := filepath.Base(src)
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	droppedXattrs := false

	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := base
		if rel != "." {
			name = base + "/" + filepath.ToSlash(rel)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		hdr.Name = name
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Format = tf
		if uname != "" {
			hdr.Uname = uname
		}
		if gname != "" {
			hdr.Gname = gname
		}
		if uid >= 0 {
			hdr.Uid = uid
		}
		if gid >= 0 {
			hdr.Gid = gid
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().IsRegular() && st != nil && st.Nlink > 1 {
			k := inode{uint64(st.Dev), uint64(st.Ino)}
			if first, ok := seen[k]; ok {
				hdr.Typeflag = tar.TypeLink
				hdr.Linkname = first
				hdr.Size = 0
			} else {
				seen[k] = hdr.Name
			}
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeDir {
			xa, err := userXattrs(p)
			if err != nil {
				return fmt.Errorf("%s: xattrs: %w", p, err)
			}
			if len(xa) > 0 {
				if tf == tar.FormatPAX {
					hdr.PAXRecords = map[string]string{}
					for k, v := range xa {
						hdr.PAXRecords[xattrPrefix+k] = v
					}
				} else {
					droppedXattrs = true
				}
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, in)
			in.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	})
	if err != nil {
		f.Close()
		return err
	}
	if droppedXattrs {
		fmt.Fprintln(os.Stderr, "gotar write: note: xattrs not stored (gnu format)")
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// ---------------------------------------------------------------- lister

type entry struct {
	Path     string            `json:"path"`
	Type     string            `json:"type"`
	Size     int64             `json:"size"`
	Mode     int64             `json:"mode"`
	UID      int               `json:"uid"`
	GID      int               `json:"gid"`
	Uname    string            `json:"uname"`
	Gname    string            `json:"gname"`
	Mtime    json.RawMessage   `json:"mtime"`
	Linkname *string           `json:"linkname,omitempty"`
	Devmajor *int64            `json:"devmajor,omitempty"`
	Devminor *int64            `json:"devminor,omitempty"`
	Xattrs   map[string]string `json:"xattrs,omitempty"`
	SHA256   string            `json:"sha256,omitempty"`
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg, tar.TypeRegA, tar.TypeCont, tar.TypeGNUSparse:
		return "file"
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeChar:
		return "char"
	case tar.TypeBlock:
		return "block"
	case tar.TypeFifo:
		return "fifo"
	}
	return string(rune(t)) // same code point as Python's latin-1 view of the byte
}

// mtimeJSON renders an int when the time is whole seconds, else the decimal
// value parsed as a float64 (rounded exactly like Python's float("s.nnnnnnnnn")).
func mtimeJSON(t time.Time) json.RawMessage {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	if nsec == 0 {
		return json.RawMessage(strconv.FormatInt(sec, 10))
	}
	var s string
	if sec < 0 {
		s = fmt.Sprintf("-%d.%09d", -sec-1, 1000000000-nsec)
	} else {
		s = fmt.Sprintf("%d.%09d", sec, nsec)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64))
}

func openArchive(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(6)
	closer := func() { f.Close() }
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return zr, closer, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), closer, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		f.Close()
		return nil, nil, errors.New("zstd input is not supported by the Go standard library")
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		f.Close()
		return nil, nil, errors.New("xz input is not supported by the Go standard library")
	}
	return br, closer, nil
}

func list(path string, digest bool) error {
	r, closer, err := openArchive(path)
	if err != nil {
		return err
	}
	defer closer()
	tr := tar.NewReader(r)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		e := entry{
			Path: hdr.Name, Type: typeName(hdr.Typeflag), Size: hdr.Size, Mode: hdr.Mode,
			UID: hdr.Uid, GID: hdr.Gid, Uname: hdr.Uname, Gname: hdr.Gname,
			Mtime: mtimeJSON(hdr.ModTime),
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink, tar.TypeLink:
			l := hdr.Linkname
			e.Linkname = &l
		case tar.TypeChar, tar.TypeBlock:
			ma, mi := hdr.Devmajor, hdr.Devminor
			e.Devmajor, e.Devminor = &ma, &mi
		}
		keys := make([]string, 0)
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, xattrPrefix) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) > 0 {
			e.Xattrs = map[string]string{}
			for _, k := range keys {
				e.Xattrs[strings.TrimPrefix(k, xattrPrefix)] = hdr.PAXRecords[k]
			}
		}
		if digest && e.Type == "file" {
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return err
			}
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		if err := enc.Encode(&e); err != nil {
			return err
		}
	}
}
