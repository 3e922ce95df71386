package shopifytest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// runBulkMutation runs each staged line of a bulk mutation (the first
// limit ones when limit >= 0) and returns the result file: one line per
// input line, {"data": ..., "__lineNumber": n}, with "errors" when the
// line failed.
func (s *Server) runBulkMutation(op *bulkOp, now time.Time, limit int) ([]byte, int64) {
	file := s.bulk.uploads[op.staged]
	mop := op.mutDoc.Operations[0]
	var buf bytes.Buffer
	var n int64
	root := s.withMarketing(s.mutationRoot(now), now)
	for line := range bytes.Lines(file) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if limit >= 0 && n >= int64(limit) {
			break
		}
		out := map[string]any{}
		var vars map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			out["errors"] = []gqlErr{{Message: "Invalid JSON on line " + strconv.FormatInt(n+1, 10)}}
		} else {
			e := &executor{vars: normalizeNumbers(vars)}
			out["data"] = e.selection(mop.SelectionSet, root, nil)
			for _, sel := range mop.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					s.ops[f.Name]++
				}
			}
			if len(e.errors) > 0 {
				out["errors"] = e.errors
			}
		}
		out["__lineNumber"] = n
		b, _ := json.Marshal(out)
		buf.Write(b)
		buf.WriteByte('\n')
		n++
	}
	return buf.Bytes(), n
}

// bulkMutations are the mutations the fake runs in bulk.
var bulkMutations = []string{"tagsAdd", "tagsRemove"}

func (s *Server) bulkRunMutation(mutation, path string, now time.Time, version string) *obj {
	payload := func(op *bulkOp, errs ...map[string]any) *obj {
		return fields("BulkOperationRunMutationPayload", bulkPayload(op, s, errs...))
	}
	if s.running("MUTATION") >= concurrency("MUTATION", version) {
		return payload(nil, bulkErr("OPERATION_IN_PROGRESS", nil,
			"A bulk mutation operation for this app and shop is already in progress: "+s.runningIDs("MUTATION")+"."))
	}
	doc, gerrs := gqlparser.LoadQuery(s.schema, mutation)
	switch {
	case len(gerrs) > 0:
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "Invalid mutation: "+gerrs[0].Message))
	case len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Mutation:
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "The document must hold one mutation."))
	}
	mop := doc.Operations[0]
	if names := topLevelFields(mop); len(names) != 1 || len(mop.SelectionSet) != 1 {
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "A bulk mutation runs exactly one mutation field."))
	} else if !slices.Contains(bulkMutations, names[0]) {
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, names[0]+" is not modelled by the fake's bulk mutations"))
	}
	if _, ok := s.bulk.uploads[path]; !ok {
		return payload(nil, bulkErr("NO_SUCH_FILE", []string{"stagedUploadPath"}, "The JSONL file could not be found."))
	}
	for line := range bytes.Lines(s.bulk.uploads[path]) {
		var v map[string]any
		if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &v) != nil {
			return payload(nil, bulkErr("INVALID_STAGED_UPLOAD_FILE", []string{"stagedUploadPath"}, "Unexpected file structure - expected JSONL"))
		}
	}
	s.docs = append(s.docs, mutation)
	op := s.startBulk("MUTATION", mutation, now, version)
	op.staged, op.mutDoc = path, doc
	return payload(op)
}
