package shopify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm"
)

// BulkRow is one object of a bulk query's result with the objects nested
// under it: Shopify writes every object of a nested connection on a line
// of its own naming its parent in "__parentId"; the reader puts it back
// under its parent. A line the reader could place without decoding it is
// checked by Decode, which fails on one that is not valid JSON.
type BulkRow struct {
	ID       string // the object's id; "" when the query did not select it
	ParentID string // "" for an object at the root of the query
	// Data is the line as Shopify wrote it ("__parentId" included).
	Data     json.RawMessage
	Children []*BulkRow // the objects whose __parentId is ID, in file order
}

// Decode decodes the row's Data into v; a line that is not valid JSON is
// a *BulkFormatError.
func (r *BulkRow) Decode(v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &BulkFormatError{Reason: "row " + short(r.ID) + " is not valid JSON", Err: err}
		}
		return err
	}
	return nil
}

// BulkFormatError reports a line of a result file that is not what
// Shopify writes: not a JSON object, too long, or a child whose parent is
// not above it in the current root object. It matches
// ErrMalformedResponse.
type BulkFormatError struct {
	Line   int // from 1
	Reason string
	Err    error
}

// Error describes the error.
func (e *BulkFormatError) Error() string {
	s := "shopify: bulk result line " + strconv.Itoa(e.Line) + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *BulkFormatError) Unwrap() error { return e.Err }

// Is matches ErrMalformedResponse.
func (e *BulkFormatError) Is(target error) bool { return target == ErrMalformedResponse }

// ErrMalformedResponse matches answers that are not what the API sends;
// see [shopcrm.ErrMalformedResponse].
var ErrMalformedResponse = shopcrm.ErrMalformedResponse

// DecodeBulkRows reads a bulk query's JSONL result from r and yields each
// root object once its children are complete: when the next root object
// starts, or at the end. Memory stays bounded by one root object and its
// children, however large the file; maxLine bounds one line (0 means
// DefaultMaxBulkLine). Children must follow their parent inside the same
// root object, as Shopify writes them; anything else ends the sequence
// with a *BulkFormatError.
func DecodeBulkRows(r io.Reader, maxLine int) iter.Seq2[*BulkRow, error] {
	if maxLine <= 0 {
		maxLine = DefaultMaxBulkLine
	}
	return func(yield func(*BulkRow, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var root *BulkRow
		index := map[string]*BulkRow{}
		var line []byte
		for n := 1; ; n++ {
			var err error
			line, err = readLine(br, line[:0], maxLine)
			if err == errLineTooLong {
				yield(nil, &BulkFormatError{Line: n, Reason: fmt.Sprintf("longer than %d bytes", maxLine), Err: shopcrm.ErrBodyTooLarge})
				return
			}
			if len(bytes.TrimSpace(line)) > 0 {
				row, ferr := parseRow(n, line)
				if ferr != nil {
					yield(nil, ferr)
					return
				}
				if row.ParentID == "" {
					if root != nil && !yield(root, nil) {
						return
					}
					root = row
					clear(index)
				} else {
					p := index[row.ParentID]
					if p == nil {
						yield(nil, &BulkFormatError{Line: n, Reason: "parent " + short(row.ParentID) + " is not above it in the current root object"})
						return
					}
					p.Children = append(p.Children, row)
				}
				if row.ID != "" {
					index[row.ID] = row
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
		if root != nil {
			yield(root, nil)
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine appends the next line of br (without its newline) to buf.
func readLine(br *bufio.Reader, buf []byte, maxLine int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine+1 {
			return buf, errLineTooLong
		}
		if free := cap(buf) - len(buf); free < len(chunk) {
			// Double, up to the cap: append's smaller steps would copy a
			// long line many times over.
			buf = slices.Grow(buf, min(max(len(chunk), len(buf)), maxLine+1-len(buf)))
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
		}
		return buf, err
	}
}

// rowHead is what the reader needs of every line.
type rowHead struct{ ID, ParentID string }

func parseRow(n int, line []byte) (*BulkRow, error) {
	line = bytes.TrimSpace(line)
	if line[0] != '{' {
		return nil, &BulkFormatError{Line: n, Reason: "not a JSON object"}
	}
	// A line in Shopify's shape is not validated here: Decode does it
	// while decoding, and scanning every line twice would cost a sixth of
	// the reader's time.
	h, ok := quickHead(line)
	if !ok {
		// Keys match exactly, as Shopify writes them (encoding/json would
		// also take "ID" for "id").
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, &BulkFormatError{Line: n, Reason: "not a JSON object", Err: err}
		}
		_ = json.Unmarshal(m["id"], &h.ID)
		_ = json.Unmarshal(m["__parentId"], &h.ParentID)
	}
	return &BulkRow{ID: h.ID, ParentID: h.ParentID, Data: bytes.Clone(line)}, nil
}

var (
	idPrefix     = []byte(`{"id":"`)
	parentMarker = []byte(`,"__parentId":"`)
)

// quickHead reads the id and __parentId of a line the way Shopify writes
// it (id the first key, __parentId the last, neither escaped) without
// decoding the whole line; ok is false for any other shape, which the
// full decoder then reads. Decoding every line twice would halve the
// reader's speed.
func quickHead(line []byte) (h rowHead, ok bool) {
	rest, found := bytes.CutPrefix(line, idPrefix)
	if !found {
		return h, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 || !utf8.Valid(rest[:end]) {
		return h, false
	}
	h.ID = string(rest[:end])
	rest = rest[end+1:]
	// A child line ends with ,"__parentId":"<id>"}: read it from the end.
	if n := len(rest); n >= 2 && rest[n-2] == '"' && rest[n-1] == '}' {
		q := bytes.LastIndexByte(rest[:n-2], '"')
		if q >= 0 && bytes.HasSuffix(rest[:q+1], parentMarker) {
			v := rest[q+1 : n-2]
			if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
				return h, false
			}
			h.ParentID = string(v)
			return h, true
		}
	}
	if bytes.Contains(rest, []byte(`"__parentId"`)) {
		return h, false // not where Shopify writes it
	}
	return h, true
}

// Rows downloads a result file (BulkOperation.URL or PartialDataURL) and
// yields its root objects with their children reattached (see
// [DecodeBulkRows]). The file is read as a stream, never whole, over the
// storage path: no Shopify credential, an idle timeout instead of a total
// one, no body cap but the line cap ([WithMaxBulkLine]). A transfer that
// breaks ends the sequence with a *StorageError.
func (s *BulkService) Rows(ctx context.Context, fileURL string) iter.Seq2[*BulkRow, error] {
	return func(yield func(*BulkRow, error) bool) {
		if err := checkStorageURL("url", fileURL); err != nil {
			yield(nil, err)
			return
		}
		resp, err := s.c.storageDo(ctx, "download", func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, fileURL, nil)
		})
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		for row, err := range DecodeBulkRows(resp.Body, s.c.maxBulkLine) {
			if err != nil && !errors.Is(err, ErrMalformedResponse) {
				err = &StorageError{Op: "download", Host: hostOf(fileURL), Err: storageCause(ctx, err)}
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}
