package monitor

import (
	"sort"
	"strings"
)

// DefaultSeparator separates the namespaces of a key: "user:42:profile".
const DefaultSeparator = ":"

// Tree groups keys by namespace for the keys view's tree mode: the keys
// "user:1", "user:2" and "cart:9" become the nodes "user" (2 keys) and
// "cart" (1 key), each expandable to its keys. Feed it the keys as pages
// arrive with Add; it keeps one node per distinct prefix, so its memory
// follows the keys given to it (the UI's cap on loaded rows bounds it).
// It is not safe for concurrent use: the UI owns it.
type Tree struct {
	sep     string
	root    *TreeNode
	partial bool
}

// TreeNode is a namespace (a group of keys sharing a prefix) or a key.
type TreeNode struct {
	// Name is the node's part of the key: "user" for the namespace
	// "user:", "42" for the key "user:42". Raw bytes.
	Name string
	// Prefix is the full prefix of a namespace, separator included
	// ("user:"), or the whole key of a key node. The root's is "".
	Prefix string
	// Key reports a node that is a key (it has no children, unless keys
	// also exist under it as a namespace: "user" and "user:1" give a key
	// node "user" and a namespace node "user").
	Key bool
	// Count is how many of the keys added lie under this node (1 for a
	// key node).
	Count int64
	// Partial reports that Count covers only the keys seen so far: the
	// scan that feeds the tree is not complete.
	Partial bool

	children map[string]*TreeNode // by Name, namespaces and keys apart
	sorted   []*TreeNode          // cache of Children, nil when stale
}

// NewTree returns an empty tree that splits keys on sep ("" means
// DefaultSeparator). It starts partial: call SetComplete when the scan
// feeding it is done.
func NewTree(sep string) *Tree {
	if sep == "" {
		sep = DefaultSeparator
	}
	return &Tree{sep: sep, root: &TreeNode{Partial: true}, partial: true}
}

// Separator returns the tree's separator.
func (t *Tree) Separator() string { return t.sep }

// Root returns the root node, whose children are the top-level namespaces
// and keys.
func (t *Tree) Root() *TreeNode { return t.root }

// Add files keys into the tree. Keys given twice are counted twice: give
// it the de-duplicated pages of a Browser.
func (t *Tree) Add(keys ...string) {
	for _, key := range keys {
		t.add(key)
	}
}

func (t *Tree) add(key string) {
	node := t.root
	node.Count++
	rest := key
	for {
		part, tail, more := strings.Cut(rest, t.sep)
		node.sorted = nil // counts change, so may the order
		if !more {
			leaf := node.child(part, true)
			leaf.Prefix, leaf.Count = key, leaf.Count+1
			leaf.Partial = t.partial
			return
		}
		child := node.child(part, false)
		child.Prefix = key[:len(key)-len(tail)]
		child.Count++
		child.Partial = t.partial
		node, rest = child, tail
	}
}

// child returns (creating it) the key or namespace child called name.
func (n *TreeNode) child(name string, key bool) *TreeNode {
	id := name + "\x00n"
	if key {
		id = name + "\x00k"
	}
	if c, ok := n.children[id]; ok {
		return c
	}
	if n.children == nil {
		n.children = make(map[string]*TreeNode)
	}
	c := &TreeNode{Name: name, Key: key}
	n.children[id] = c
	n.sorted = nil
	return c
}

// SetComplete marks every count final (true) or partial (false).
func (t *Tree) SetComplete(complete bool) {
	t.partial = !complete
	var walk func(*TreeNode)
	walk = func(n *TreeNode) {
		n.Partial = t.partial
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(t.root)
}

// Children returns the node's children: namespaces first, by descending
// count then name, then keys by name. The slice is shared; do not modify
// it.
func (n *TreeNode) Children() []*TreeNode {
	if n.sorted == nil && len(n.children) > 0 {
		n.sorted = make([]*TreeNode, 0, len(n.children))
		for _, c := range n.children {
			n.sorted = append(n.sorted, c)
		}
		sort.Slice(n.sorted, func(i, j int) bool {
			a, b := n.sorted[i], n.sorted[j]
			if a.Key != b.Key {
				return !a.Key
			}
			if !a.Key && a.Count != b.Count {
				return a.Count > b.Count
			}
			return a.Name < b.Name
		})
	}
	return n.sorted
}

// Len returns the number of children.
func (n *TreeNode) Len() int { return len(n.children) }
