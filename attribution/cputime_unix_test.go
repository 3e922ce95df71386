//go:build unix

package attribution_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used. Ratios are taken in
// CPU time because the benchmark machine may be shared: other load
// stretches wall time, not the work done.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return time.Since(processStart)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var processStart = time.Now()
