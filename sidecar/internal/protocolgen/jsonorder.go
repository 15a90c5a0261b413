package protocolgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// node is a JSON value that keeps its object keys in order, so package.json can be rewritten with
// only the generated block changed and the same layout JSON.stringify(v, null, 2) gives it.
type node struct {
	obj    []member // when isObj
	arr    []*node  // when isArr
	scalar string   // raw JSON for strings, numbers, booleans and null
	isObj  bool
	isArr  bool
}

type member struct {
	key string
	val *node
}

func parseOrdered(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &node{isObj: t == '{', isArr: t == '['}
		for dec.More() {
			if n.isObj {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.obj = append(n.obj, member{k.(string), v})
				continue
			}
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.arr = append(n.arr, v)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return &node{scalar: quoteJS(t)}, nil
	case json.Number:
		return &node{scalar: t.String()}, nil
	case bool:
		return &node{scalar: fmt.Sprint(t)}, nil
	default:
		return &node{scalar: "null"}, nil
	}
}

// set replaces (or appends) key in an object node.
func (n *node) set(key string, v *node) {
	for i := range n.obj {
		if n.obj[i].key == key {
			n.obj[i].val = v
			return
		}
	}
	n.obj = append(n.obj, member{key, v})
}

func (n *node) get(key string) *node {
	for _, m := range n.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// toNode converts any JSON-marshalable value, keeping struct field order.
func toNode(v any) (*node, error) {
	b, err := marshalIndent(v)
	if err != nil {
		return nil, err
	}
	return parseOrdered(b)
}

// render writes n as JSON.stringify(n, null, 2) would.
func (n *node) render(b *strings.Builder, indent string) {
	inner := indent + "  "
	switch {
	case n.isObj && len(n.obj) == 0:
		b.WriteString("{}")
	case n.isObj:
		b.WriteString("{\n")
		for i, m := range n.obj {
			b.WriteString(inner + quoteJS(m.key) + ": ")
			m.val.render(b, inner)
			if i < len(n.obj)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case n.isArr && len(n.arr) == 0:
		b.WriteString("[]")
	case n.isArr:
		b.WriteString("[\n")
		for i, v := range n.arr {
			b.WriteString(inner)
			v.render(b, inner)
			if i < len(n.arr)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	default:
		b.WriteString(n.scalar)
	}
}

// quoteJS quotes s as JSON.stringify does: only quotes, backslashes and control characters escaped.
func quoteJS(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
