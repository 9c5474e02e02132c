// restic-throughput: single-core throughput of restic/chunker (Debian golang-github-restic-chunker-dev)
// over a file loaded into memory. Usage: restic-throughput FILE RUNS
// Prints two lines: `restic-default GIB_PER_S CHUNKS` (restic's own parameters: 512 KiB … 8 MiB,
// 20-bit mask) and `restic-kubo-bounds GIB_PER_S CHUNKS` (min 87381, max 393216, 18-bit mask, like
// Kubo's `rabin`; restic's window stays 64 bytes).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/restic/chunker"
)

// A fixed irreducible polynomial, so runs are repeatable (restic picks a random one per repository).
const pol = chunker.Pol(0x3DA3358B4DC173)

// now returns seconds: wall time, or with CAIRN_CPU_TIME set this thread's CPU time
// (getrusage RUSAGE_THREAD = 1; the goroutine is locked to its thread in main).
func now() float64 {
	if os.Getenv("CAIRN_CPU_TIME") == "" {
		return float64(time.Now().UnixNano()) * 1e-9
	}
	var usage syscall.Rusage
	if err := syscall.Getrusage(1, &usage); err != nil {
		panic(err)
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) * 1e-9
}

func measure(data []byte, runs int, configure func(io.Reader) *chunker.Chunker) (float64, int) {
	buf := make([]byte, 16<<20)
	best := 1e18
	count := 0
	for r := 0; r < runs; r++ {
		c := configure(bytes.NewReader(data))
		n := 0
		start := now()
		for {
			_, err := c.Next(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				panic(err)
			}
			n++
		}
		elapsed := now() - start
		if elapsed < best {
			best = elapsed
		}
		count = n
	}
	return float64(len(data)) / float64(1<<30) / best, count
}

func main() {
	runtime.LockOSThread()
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	runs, _ := strconv.Atoi(os.Args[2])
	speed, n := measure(data, runs, func(r io.Reader) *chunker.Chunker { return chunker.New(r, pol) })
	fmt.Printf("restic-default %.3f %d\n", speed, n)
	speed, n = measure(data, runs, func(r io.Reader) *chunker.Chunker {
		c := chunker.NewWithBoundaries(r, pol, 87381, 393216)
		c.SetAverageBits(18)
		return c
	})
	fmt.Printf("restic-kubo-bounds %.3f %d\n", speed, n)
}
