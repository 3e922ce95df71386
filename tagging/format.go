package tagging

import (
	"strconv"
	"unicode/utf8"
)

// Format writes t as a tag of the default schema; see [Schema.Format].
func Format(t Tag) (string, error) { return defaultSchema.Format(t) }

// Format writes t as a tag of the schema. The fields t's kind does not use
// must be zero. The error is a [*FormatError] for a field that cannot be
// written, or a [*TagError] when the tag would break the length limit.
//
// Every tag Format returns parses back to t.
func (s *Schema) Format(t Tag) (string, error) {
	var buf [128]byte
	b, err := s.AppendFormat(buf[:0], t)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendFormat is like Format but appends the tag to dst. On error dst is
// returned unchanged.
func (s *Schema) AppendFormat(dst []byte, t Tag) ([]byte, error) {
	start := len(dst)
	b, err := s.appendTag(dst, t)
	if err != nil {
		return dst, err
	}
	if tag := b[start:]; len(tag) > s.cfg.maxLen && utf8.RuneCount(tag) > s.cfg.maxLen {
		return dst[:start], &TagError{Tag: string(tag), Err: ErrTooLong, Max: s.cfg.maxLen}
	}
	return b, nil
}

// fieldUse says which Tag fields a kind writes.
type fieldUse struct{ contract, value, date, count bool }

func (s *Schema) uses(k Kind) fieldUse {
	switch k {
	case KindPlan, KindProduct:
		return fieldUse{contract: true, value: true}
	case KindCancel:
		return fieldUse{contract: true, date: true}
	case KindSkipCount:
		return fieldUse{contract: true, count: true}
	case KindOrderCount:
		return fieldUse{count: true}
	case KindSubscriptionID:
		return fieldUse{value: true}
	case KindDelivery:
		return fieldUse{contract: true, value: true, date: true}
	case KindPause, KindRank, KindStatus:
		i, _ := tmplIndex(k)
		t := &s.tmpl[i]
		return fieldUse{contract: t.hasID, value: t.hasValue, date: t.hasDate}
	}
	return fieldUse{}
}

// checkFields validates t's fields for its kind.
func (s *Schema) checkFields(t Tag) error {
	if t.Kind == KindUnknown || t.Kind >= numKinds {
		return &FormatError{Kind: t.Kind, Field: "Kind", Value: t.Kind.String(), Reason: "not a tag kind"}
	}
	u := s.uses(t.Kind)
	bad := func(field, value, reason string) error {
		return &FormatError{Kind: t.Kind, Field: field, Value: value, Reason: reason}
	}
	unused := "not used by " + t.Kind.String() + " tags"
	switch {
	case !u.contract && t.Contract != "":
		return bad("Contract", t.Contract, unused)
	case !u.value && t.Value != "":
		return bad("Value", t.Value, unused)
	case !u.date && !t.Date.IsZero():
		return bad("Date", t.Date.String(), unused)
	case !u.count && t.Count != 0:
		return bad("Count", strconv.Itoa(t.Count), unused)
	}
	if u.contract && !isContractID(t.Contract) {
		return bad("Contract", t.Contract, "expected a contract id (ASCII digits)")
	}
	if u.value {
		switch {
		case t.Kind == KindSubscriptionID:
			if len(t.Value) != 10 || !isContractID(t.Value) {
				return bad("Value", t.Value, "expected exactly 10 ASCII digits")
			}
		case t.Kind == KindDelivery && t.Value == "":
			// no time slot
		default:
			if pos, want := checkText(t.Value); pos >= 0 {
				return bad("Value", t.Value, "expected "+want+" at offset "+strconv.Itoa(pos))
			}
		}
	}
	if u.date && !t.Date.Valid() {
		return bad("Date", t.Date.String(), "not a calendar date from 0001-01-01 to 9999-12-31")
	}
	if u.count && t.Count < 0 {
		return bad("Count", strconv.Itoa(t.Count), "negative")
	}
	return nil
}

// appendTag checks t and appends it, without the length limit.
func (s *Schema) appendTag(b []byte, t Tag) ([]byte, error) {
	if err := s.checkFields(t); err != nil {
		return b, err
	}
	switch t.Kind {
	case KindPlan, KindProduct, KindCancel, KindSkipCount:
		b = append(b, s.prefix...)
		b = append(b, '-')
		b = append(b, t.Contract...)
		switch t.Kind {
		case KindPlan:
			b = append(b, "-plan:"...)
			b = append(b, t.Value...)
		case KindProduct:
			b = append(b, "-product:"...)
			b = append(b, t.Value...)
		case KindCancel:
			b = append(b, "-cancel:"...)
			b = t.Date.Append(b)
		case KindSkipCount:
			b = append(b, "-skip-count:"...)
			b = strconv.AppendInt(b, int64(t.Count), 10)
		}
	case KindOrderCount:
		b = append(b, s.prefix...)
		b = append(b, "-count:"...)
		b = strconv.AppendInt(b, int64(t.Count), 10)
	case KindSubscriptionID:
		b = append(b, s.prefix...)
		b = append(b, "-id:"...)
		b = append(b, t.Value...)
	case KindDelivery:
		b = append(b, s.delivery...)
		b = append(b, '-')
		b = append(b, t.Contract...)
		b = append(b, ':')
		b = t.Date.Append(b)
		if t.Value != "" {
			b = append(b, ' ')
			b = append(b, t.Value...)
		}
	default: // templated
		i, _ := tmplIndex(t.Kind)
		tm := &s.tmpl[i]
		start := len(b)
		b = tm.append(b, t)
		// Free text can make a templated tag look like an earlier kind
		// (a status "1-plan:x" under "{prefix}-{id}-{value}"): refuse
		// what would not read back.
		if got, ok := s.parse(string(b[start:]), nil); !ok || got != t {
			field, value := "Contract", t.Contract
			if tm.hasValue {
				field, value = "Value", t.Value
			}
			reason := "the tag would not read back"
			if ok {
				reason = "the tag would read back as a " + got.Kind.String() + " tag"
			}
			return b[:start], &FormatError{Kind: t.Kind, Field: field, Value: value, Reason: reason}
		}
	}
	return b, nil
}
