package pipeline

// SetBulkReadAbove lets a test choose how Lifecycle reads tags.
func SetBulkReadAbove(n int) (restore func()) {
	old := bulkReadAbove
	bulkReadAbove = n
	return func() { bulkReadAbove = old }
}
