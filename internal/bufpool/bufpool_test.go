package bufpool

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func newPool(made *int) *Pool {
	return New(func() *[]byte {
		*made++
		b := make([]byte, 1024)
		return &b
	})
}

func TestGetPut(t *testing.T) {
	made := 0
	p := newPool(&made)
	a, b := p.Get(), p.Get()
	if made != 2 || a == b || len(*a) != 1024 {
		t.Fatalf("two Gets from an empty pool: made %d, same %v, len %d", made, a == b, len(*a))
	}
	p.Put(a)
	p.Put(b)
	if got := p.Get(); got != b {
		t.Error("Get did not return the buffer put back last")
	}
	if got := p.Get(); got != a || made != 2 {
		t.Errorf("Get did not reuse the first buffer (made %d)", made)
	}
}

// TestKeepsBuffersWhenGOMAXPROCSGrows is why this is not a sync.Pool:
// adaptprocs raises GOMAXPROCS whenever a process gets busy.
func TestKeepsBuffersWhenGOMAXPROCSGrows(t *testing.T) {
	made := 0
	p := newPool(&made)
	b := p.Get()
	p.Put(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.GOMAXPROCS(4)
	if got := p.Get(); got != b || made != 1 {
		t.Errorf("after GOMAXPROCS grew: same buffer %v, made %d; want the one put back", got == b, made)
	}
}

// TestLetsGoWhenUnused: a buffer unused through a whole collection cycle
// is dropped; one used in between is kept.
func TestLetsGoWhenUnused(t *testing.T) {
	made := 0
	p := newPool(&made)
	p.Put(p.Get())
	p.Put(p.Get())
	if p.Len() != 1 {
		t.Fatalf("Len %d, want 1", p.Len())
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the pool still holds %d buffers after collections", p.Len())
		}
		runtime.GC()
		time.Sleep(time.Millisecond) // the cleanup runs on its own goroutine
	}
	before := made
	p.Get()
	if made != before+1 {
		t.Error("Get after the pool let go did not make a new buffer")
	}
}

// TestConcurrent: a buffer is never handed to two holders at once.
func TestConcurrent(t *testing.T) {
	p := New(func() *[]byte {
		b := make([]byte, 16)
		return &b
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				b := p.Get()
				mark := byte(g*31 + i)
				(*b)[0] = mark
				runtime.Gosched()
				if (*b)[0] != mark {
					t.Error("a buffer was handed out while another holder had it")
					return
				}
				p.Put(b)
			}
		}()
	}
	wg.Wait()
}
