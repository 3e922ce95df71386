package linetest_test

import "github.com/shopcrm/shopcrm/internal/transport"

func transportNoRetry() transport.RetryPolicy { return transport.RetryPolicy{} }

func noRetry() transport.RetryPolicy { return transport.RetryPolicy{} }
