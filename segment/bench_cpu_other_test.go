//go:build !unix

package segment

import "time"

// cpuTime falls back to wall time where getrusage is not available.
func cpuTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
