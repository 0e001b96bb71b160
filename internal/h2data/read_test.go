package h2data_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/h2data"
	"github.com/porthole-dev/porthole/internal/testutil/tcppair"
)

func TestReadDataAfterTheFrameHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		socket bool // read through the RawConn, not the reader
		k      int
		want   string
		kept   bool // the buffer stays after ReleaseData
	}{
		{"reader", false, 5, "hello", true},
		{"reader, less than there is", false, 3, "hel", true},
		{"socket", true, 5, "hello", false},
		{"socket, less than there is", true, 3, "hel", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, in := tcppair.New(t)
			if _, err := out.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			_ = in.SetReadDeadline(time.Now().Add(10 * time.Second))
			var raw syscall.RawConn
			if tc.socket {
				var err error
				if raw, err = in.SyscallConn(); err != nil {
					t.Fatal(err)
				}
			}
			var bp *[]byte
			got := ""
			// A short first read is no error: read on for what is asked.
			for len(got) < len(tc.want) {
				n, err := h2data.ReadData(raw, in.Read, &bp, tc.k-len(got))
				if err != nil {
					t.Fatalf("ReadData: %v", err)
				}
				if bp == nil || n == 0 {
					t.Fatalf("ReadData read %d with buffer %v", n, bp)
				}
				got += string((*bp)[h2data.FrameHeader : h2data.FrameHeader+n])
				h2data.ReleaseData(raw, &bp)
				if (bp != nil) != tc.kept {
					t.Fatalf("after ReleaseData the buffer is kept: %v, want %v", bp != nil, tc.kept)
				}
			}
			if got != tc.want {
				t.Fatalf("read %q, want %q", got, tc.want)
			}
			if bp != nil {
				h2data.Bufs{}.Put(bp)
			}
		})
	}
}
