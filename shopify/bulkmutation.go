package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shopcrm/shopcrm"
)

// MaxStagedUploadSize is the largest file this package stages: 20 MB
// (20,971,520 bytes), past which Shopify's storage answered EntityTooLarge.
// Shopify's December 2025 changelog raises the limit to 100 MB; the older
// bound is kept, as it holds for every shop. Bulk tag changes split their
// variables into files of at most this size.
const MaxStagedUploadSize = 20 * 1024 * 1024

// StageUpload uploads a JSONL file of mutation variables (one JSON object
// per line) for a bulk mutation and returns its stagedUploadPath: it asks
// Shopify for a target (stagedUploadsCreate, resource
// BULK_MUTATION_VARIABLES, POST) and posts the file there as a multipart
// form, the target's parameters first. The upload goes over the storage
// path: no Shopify credential, an idle timeout instead of a total one. A
// file over MaxStagedUploadSize is an *InputError before any request.
//
//spec:graphql mutation stagedUploadsCreate
func (s *BulkService) StageUpload(ctx context.Context, filename string, jsonl []byte) (string, error) {
	switch {
	case filename == "" || strings.ContainsAny(filename, "/\\"):
		return "", &InputError{Field: "filename", Value: filename, Reason: "must be a plain file name"}
	case len(jsonl) == 0:
		return "", &InputError{Field: "jsonl", Reason: "must not be empty"}
	case len(jsonl) > MaxStagedUploadSize:
		return "", &InputError{Field: "jsonl", Value: strconv.Itoa(len(jsonl)) + " bytes",
			Reason: "larger than the " + strconv.Itoa(MaxStagedUploadSize) + " bytes a staged upload takes; split it"}
	}
	var out struct {
		P *struct {
			Targets []struct {
				URL        *string `json:"url"`
				Parameters []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"parameters"`
			} `json:"stagedTargets"`
			UserErrors userErrorList `json:"userErrors"`
		} `json:"stagedUploadsCreate"`
	}
	q := `mutation stagedUploadsCreate($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) { stagedTargets { url parameters { name value } } userErrors { field message } } }`
	vars := map[string]any{"input": []map[string]any{{"resource": "BULK_MUTATION_VARIABLES", "filename": filename,
		"mimeType": "text/jsonl", "httpMethod": "POST"}}}
	// An unused target costs nothing: creating one again is harmless.
	if _, err := s.c.do(ctx, &call{query: q, vars: vars, cost: mutationCost, retry: idempotent}, &out); err != nil {
		return "", err
	}
	if out.P == nil {
		return "", &shopcrm.ResponseError{Op: "stagedUploadsCreate", Reason: "no payload in the answer"}
	}
	if err := s.c.mutationErrors("stagedUploadsCreate", out.P.UserErrors); err != nil {
		return "", err
	}
	if len(out.P.Targets) != 1 || out.P.Targets[0].URL == nil {
		return "", &shopcrm.ResponseError{Op: "stagedUploadsCreate", Reason: "no upload target in the answer"}
	}
	t := out.P.Targets[0]
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	key := ""
	for _, p := range t.Parameters {
		if p.Name == "key" {
			key = p.Value
		}
		if err := mw.WriteField(p.Name, p.Value); err != nil {
			return "", err
		}
	}
	if key == "" {
		return "", &shopcrm.ResponseError{Op: "stagedUploadsCreate", Reason: "the upload target has no key parameter"}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err == nil {
		_, err = fw.Write(jsonl)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", err
	}
	if err := checkStorageURL("stagedTargets.url", *t.URL); err != nil {
		return "", &shopcrm.ResponseError{Op: "stagedUploadsCreate", Reason: "bad upload URL", Err: err}
	}
	resp, err := s.c.storageDo(ctx, "upload", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *t.URL, bytes.NewReader(body.Bytes()))
		if err == nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
		return req, err
	})
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return key, nil
}

// RunMutation starts a bulk mutation: Shopify runs mutation (a document
// with one mutation field) once per line of the staged file at
// stagedUploadPath ([BulkService.StageUpload]), with the line as its
// variables. Its result file holds one line per input line:
// {"data": ..., "__lineNumber": n}. Starting one while the app already runs
// as many as the version allows ([MaxConcurrentBulkMutations]) is a
// *BulkInProgressError.
//
//spec:graphql mutation bulkOperationRunMutation
func (s *BulkService) RunMutation(ctx context.Context, mutation, stagedUploadPath string) (*BulkOperation, *Response, error) {
	if strings.TrimSpace(mutation) == "" {
		return nil, nil, &InputError{Field: "mutation", Reason: "must not be empty"}
	}
	if stagedUploadPath == "" {
		return nil, nil, &InputError{Field: "stagedUploadPath", Reason: "must not be empty"}
	}
	q := `mutation bulkOperationRunMutation($mutation: String!, $path: String!) { bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) { bulkOperation { ` + bulkOpFields + ` } userErrors { field message code } } }`
	return s.run(ctx, "bulkOperationRunMutation", BulkMutation, q, map[string]any{"mutation": mutation, "path": stagedUploadPath})
}

// BulkMutationLine is one line of a bulk mutation's result; see
// [DecodeBulkMutationLine].
type BulkMutationLine struct {
	Line int // the input line it answers, from 0
	// Data is the mutation's answer ({"tagsAdd": {...}}); Errors the
	// errors of the line, if any.
	Data   json.RawMessage
	Errors []*GraphQLError
}

// DecodeBulkMutationLine reads one line of a bulk mutation's result file
// (read with [BulkService.Rows]: every line is a root row). The shape,
// {"data": ..., "errors": [...], "__lineNumber": n}, is the one Shopify's
// bulk import guide shows; the 2025-01 schema does not describe it.
func DecodeBulkMutationLine(row *BulkRow) (*BulkMutationLine, error) {
	var w struct {
		Data   json.RawMessage `json:"data"`
		Errors []*GraphQLError `json:"errors"`
		Line   *int            `json:"__lineNumber"`
	}
	if err := row.Decode(&w); err != nil || w.Line == nil {
		return nil, &BulkFormatError{Reason: "a bulk mutation result line without __lineNumber", Err: err}
	}
	w.Errors = slices.DeleteFunc(w.Errors, func(e *GraphQLError) bool { return e == nil })
	for _, e := range w.Errors {
		if code, ok := e.Extensions["code"].(string); ok {
			e.Code = code
		}
	}
	return &BulkMutationLine{Line: *w.Line, Data: w.Data, Errors: w.Errors}, nil
}

// errNoResultLine is the error of a line a finished operation gave no
// answer for.
var errNoResultLine = errors.New("shopify: the bulk mutation's result has no line for this change")
