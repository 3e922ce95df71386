package linetest_test

import "github.com/shopcrm/shopcrm/line"

func noRetry() line.RetryPolicy { return line.RetryPolicy{} }
