package shopifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// StorageRequest is a request the fake's storage host received.
type StorageRequest struct {
	Method string
	Path   string
	Header http.Header
}

// StorageRequests returns every request the storage host received, in
// order of arrival, so that a test can check that no Shopify credential
// went there.
func (s *Server) StorageRequests() []StorageRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StorageRequest(nil), s.bulk.storeLog...)
}

// storageSig signs a storage path, as a signed URL of the real storage
// host does. The caller holds s.mu.
func (s *Server) storageSig(path string) string {
	m := hmac.New(sha256.New, []byte(s.cfg.token+"/storage"))
	m.Write([]byte(path))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// storageObject stores data at path and returns its signed URL. The
// caller holds s.mu.
func (s *Server) storageObject(path string, data []byte) string {
	s.bulk.files[path] = data
	return s.bulk.storage.URL + "/" + path + "?X-Goog-Signature=" + s.storageSig(path)
}

// storageError writes the XML error body of Google Cloud Storage.
func storageError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
}

func (s *Server) storageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.bulk.storeLog = append(s.bulk.storeLog, StorageRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
		s.mu.Unlock()
		switch {
		case r.Method == http.MethodGet:
			path := strings.TrimPrefix(r.URL.Path, "/")
			s.mu.Lock()
			data, ok := s.bulk.files[path]
			good := r.URL.Query().Get("X-Goog-Signature") == s.storageSig(path)
			s.mu.Unlock()
			switch {
			case !good:
				storageError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
			case !ok:
				storageError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			default:
				w.Header().Set("Content-Type", "application/jsonl")
				_, _ = w.Write(data)
			}
		case r.Method == http.MethodPost && r.URL.Path == "/upload":
			s.storageUpload(w, r)
		default:
			storageError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		}
	})
}

// storageUpload takes a staged upload: a multipart form POST of the
// target's parameters followed by the file, as Shopify's bulk import
// guide describes.
func (s *Server) storageUpload(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	mr, err := r.MultipartReader()
	if ct != "multipart/form-data" || err != nil {
		storageError(w, http.StatusBadRequest, "InvalidArgument", "Expected a multipart/form-data POST.")
		return
	}
	params := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			storageError(w, http.StatusBadRequest, "InvalidArgument", "The form has no file field.")
			return
		}
		if err != nil {
			storageError(w, http.StatusBadRequest, "InvalidArgument", "Bad multipart body.")
			return
		}
		name := part.FormName()
		if name != "file" {
			v, _ := io.ReadAll(io.LimitReader(part, 1<<16))
			params[name] = string(v)
			continue
		}
		key := params["key"]
		s.mu.Lock()
		sig, known := s.bulk.targets[key]
		s.mu.Unlock()
		if !known || params["x-goog-signature"] != sig || params["policy"] == "" {
			storageError(w, http.StatusForbidden, "AccessDenied", "Invalid policy or signature for this upload.")
			return
		}
		data, err := io.ReadAll(io.LimitReader(part, MaxStagedUploadSize+1))
		if err != nil {
			storageError(w, http.StatusBadRequest, "InvalidArgument", "Bad multipart body.")
			return
		}
		if len(data) > MaxStagedUploadSize {
			storageError(w, http.StatusBadRequest, "EntityTooLarge", fmt.Sprintf("Your proposed upload is larger than the maximum object size specified in your Policy Document (%d bytes).", MaxStagedUploadSize))
			return
		}
		s.mu.Lock()
		s.bulk.uploads[key] = data
		delete(s.bulk.targets, key)
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		return
	}
}

// stagedUploadsCreate creates upload targets on the storage host. The
// fake models BULK_MUTATION_VARIABLES uploaded with POST only. The caller
// holds s.mu.
func (s *Server) stagedUploadsCreate(input any) (any, error) {
	list, _ := input.([]any)
	var targets []*obj
	for i, it := range list {
		in, _ := it.(map[string]any)
		field := []string{"input", fmt.Sprint(i)}
		switch {
		case str(in["resource"]) != "BULK_MUTATION_VARIABLES":
			return nil, errors.New("stagedUploadsCreate: the fake models only the BULK_MUTATION_VARIABLES resource")
		case str(in["httpMethod"]) != "POST":
			return nil, errors.New("stagedUploadsCreate: the fake models only httpMethod POST for bulk mutation variables")
		case str(in["mimeType"]) != "text/jsonl":
			return fields("StagedUploadsCreatePayload", map[string]any{"stagedTargets": nil,
				"userErrors": userErrs(uerr(append(field, "mimeType"), "Bulk mutation variables must be text/jsonl"))}), nil
		case str(in["filename"]) == "":
			return fields("StagedUploadsCreatePayload", map[string]any{"stagedTargets": nil,
				"userErrors": userErrs(uerr(append(field, "filename"), "Filename can't be blank"))}), nil
		}
		key := fmt.Sprintf("tmp/%d/bulk/%s/%s", s.newID(), randomID(), str(in["filename"]))
		sig := s.storageSig(key)
		s.bulk.targets[key] = sig
		param := func(n, v string) *obj { return fields("StagedUploadParameter", map[string]any{"name": n, "value": v}) }
		targets = append(targets, fields("StagedMediaUploadTarget", map[string]any{
			"url": s.bulk.storage.URL + "/upload", "resourceUrl": nil,
			"parameters": []*obj{
				param("Content-Type", "text/jsonl"), param("success_action_status", "201"), param("acl", "private"),
				param("key", key), param("x-goog-date", s.base.Now().UTC().Format("20060102T150405Z")),
				param("x-goog-credential", "fake-storage@shopcrm-test/"+time.Now().UTC().Format("20060102")+"/auto/storage/goog4_request"),
				param("x-goog-algorithm", "GOOG4-RSA-SHA256"), param("x-goog-signature", sig), param("policy", "fake-policy-"+sig[:8]),
			},
		}))
	}
	return fields("StagedUploadsCreatePayload", map[string]any{"stagedTargets": targets, "userErrors": userErrs()}), nil
}
