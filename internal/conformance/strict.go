package conformance

import (
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// Undeclared returns an error for every property of v that schema s does
// not declare. kin-openapi lets undeclared properties through when a spec
// leaves additionalProperties open (Klaviyo's and Omnisend's do), so an
// invented field would otherwise pass. Properties are collected through
// allOf; v must fit one oneOf/anyOf branch; a schema declaring no
// properties is free-form (custom properties, metadata) unless it gives an
// additionalProperties schema, which then checks every value. allow, when
// set, lets a property the platform sends beyond its spec through.
func Undeclared(s *openapi3.Schema, v any, path string, allow func(path, key string) bool) []error {
	if s == nil {
		return nil
	}
	if alts := append(slices.Clone(s.OneOf), s.AnyOf...); len(alts) > 0 {
		var best []error
		for i, a := range alts {
			e := Undeclared(a.Value, v, path, allow)
			if len(e) == 0 {
				return nil
			}
			if i == 0 || len(e) < len(best) {
				best = e
			}
		}
		return best
	}
	var errs []error
	switch v := v.(type) {
	case map[string]any:
		props, free := declared(s)
		if free {
			if ap := s.AdditionalProperties.Schema; ap != nil {
				for k, x := range v {
					errs = append(errs, Undeclared(ap.Value, x, path+"."+k, allow)...)
				}
			}
			return errs
		}
		for k, x := range v {
			p, ok := props[k]
			if !ok {
				if allow == nil || !allow(path, k) {
					errs = append(errs, fmt.Errorf("%s: property %q is not in the spec", path, k))
				}
				continue
			}
			errs = append(errs, Undeclared(p, x, path+"."+k, allow)...)
		}
	case []any:
		if s.Items != nil {
			for i, x := range v {
				errs = append(errs, Undeclared(s.Items.Value, x, fmt.Sprintf("%s[%d]", path, i), allow)...)
			}
		}
	}
	return errs
}

// declared collects the properties a schema declares, through allOf, and
// whether it is free-form (declares none).
func declared(s *openapi3.Schema) (map[string]*openapi3.Schema, bool) {
	parts := map[string]openapi3.SchemaRefs{}
	var walk func(*openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		for k, p := range s.Properties {
			parts[k] = append(parts[k], p)
		}
		for _, a := range s.AllOf {
			walk(a.Value)
		}
	}
	walk(s)
	props := map[string]*openapi3.Schema{}
	for k, refs := range parts {
		if len(refs) == 1 {
			props[k] = refs[0].Value
		} else {
			// Declared in several allOf parts: the union of their
			// properties.
			props[k] = &openapi3.Schema{AllOf: refs}
		}
	}
	return props, len(props) == 0
}
