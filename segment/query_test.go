package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestQuery(t *testing.T) {
	cases := []struct {
		tag, want, reason string
	}{
		{"ecp-first", "customer_tags CONTAINS 'ecp-first'", ""},
		{"line", "customer_tags CONTAINS 'line'", ""},
		{"VIP 2025", "customer_tags CONTAINS 'VIP 2025'", ""},
		{"定期便", "customer_tags CONTAINS '定期便'", ""},
		{"it's", "", `contains ' or \, whose quoting in segment queries is unconfirmed`},
		{`a\b`, "", `contains ' or \, whose quoting in segment queries is unconfirmed`},
		{"", "", "empty"},
		{" x", "", "surrounding spaces"},
		{"a,b", "", "contains a comma"},
		{"a\nb", "", "contains a control character"},
		{"\xff", "", "not valid UTF-8"},
		{strings.Repeat("あ", 256), "", "longer than 255 characters"},
	}
	for _, tc := range cases {
		got, err := Query(tc.tag)
		if tc.reason == "" {
			if err != nil || got != tc.want {
				t.Errorf("Query(%q) = %q, %v; want %q", tc.tag, got, err, tc.want)
			}
			continue
		}
		var te *TagError
		if !errors.As(err, &te) || te.Reason != tc.reason || te.Tag != tc.tag {
			t.Errorf("Query(%q) error = %v; want *TagError %q", tc.tag, err, tc.reason)
		}
	}
	if _, err := Query(strings.Repeat("あ", 255)); err != nil {
		t.Errorf("255 characters rejected: %v", err)
	}
}
