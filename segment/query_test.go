package segment

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/tagging"
)

func TestQuery(t *testing.T) {
	cases := []struct {
		tag, want string
		err       error
	}{
		{"ecp-first", "customer_tags CONTAINS 'ecp-first'", nil},
		{"line", "customer_tags CONTAINS 'line'", nil},
		{"VIP 2025", "customer_tags CONTAINS 'VIP 2025'", nil},
		{"定期便", "customer_tags CONTAINS '定期便'", nil},
		{"it's", "", ErrQueryQuote},
		{`a\b`, "", ErrQueryQuote},
		{"", "", tagging.ErrEmpty},
		{" x", "", tagging.ErrSpace},
		{"a,b", "", tagging.ErrComma},
		{"a\nb", "", tagging.ErrControl},
		{"a\x01b", "", tagging.ErrControl},
		{"a\u202eb", "", tagging.ErrBidi},
		{"\u200b", "", tagging.ErrInvisible},
		{"\xff", "", tagging.ErrEncoding},
		{strings.Repeat("あ", 256), "", tagging.ErrTooLong},
	}
	for _, tc := range cases {
		got, err := Query(tc.tag)
		if tc.err == nil {
			if err != nil || got != tc.want {
				t.Errorf("Query(%q) = %q, %v; want %q", tc.tag, got, err, tc.want)
			}
			continue
		}
		var te *tagging.TagError
		if !errors.As(err, &te) || !errors.Is(err, tc.err) || te.Tag != tc.tag {
			t.Errorf("Query(%q) error = %v; want *tagging.TagError %v", tc.tag, err, tc.err)
		}
	}
	if _, err := Query(strings.Repeat("あ", 255)); err != nil {
		t.Errorf("255 characters rejected: %v", err)
	}
	want := `tagging: tag "it's": contains ' or \, whose quoting in segment queries is unconfirmed`
	if _, err := Query("it's"); err == nil || err.Error() != want {
		t.Errorf("Query error = %v, want %s", err, want)
	}
}
