package monitor

import (
	"fmt"
	"testing"
)

func TestTreeGroupsByNamespace(t *testing.T) {
	tr := NewTree("")
	tr.Add("user:1", "user:2", "user:1:cart", "cart:9", "plain", "user")
	root := tr.Root()
	if root.Count != 6 || !root.Partial || tr.Separator() != ":" {
		t.Fatalf("root %+v", root)
	}
	var top []string
	for _, c := range root.Children() {
		top = append(top, fmt.Sprintf("%s/%s/%d/%v", c.Name, c.Prefix, c.Count, c.Key))
	}
	// Namespaces first by count, then keys by name.
	want := "[user/user:/3/false cart/cart:/1/false plain/plain/1/true user/user/1/true]"
	if fmt.Sprint(top) != want {
		t.Fatalf("top level %v\nwant %s", top, want)
	}
	user := root.Children()[0]
	if user.Len() != 3 {
		t.Fatalf("user has %d children", user.Len())
	}
	var under []string
	for _, c := range user.Children() {
		under = append(under, fmt.Sprintf("%s/%s/%d/%v", c.Name, c.Prefix, c.Count, c.Key))
	}
	if fmt.Sprint(under) != "[1/user:1:/1/false 1/user:1/1/true 2/user:2/1/true]" {
		t.Fatalf("under user: %v", under)
	}
	// Adding a page re-sorts: cart grows past user.
	tr.Add("cart:1", "cart:2", "cart:3")
	if c := root.Children()[0]; c.Name != "cart" || c.Count != 4 {
		t.Fatalf("after more cart keys, first is %+v", c)
	}
	tr.SetComplete(true)
	if root.Partial || root.Children()[0].Children()[0].Partial {
		t.Fatal("SetComplete left partial nodes")
	}
}

func TestTreeWithAnotherSeparatorAndOddKeys(t *testing.T) {
	tr := NewTree("/")
	tr.Add("a/b/c", "a//d", "/lead", "trail/", "\x00/\xff")
	root := tr.Root()
	names := map[string]*TreeNode{}
	for _, c := range root.Children() {
		names[c.Prefix] = c
	}
	for _, p := range []string{"a/", "/", "trail/", "\x00/"} {
		if names[p] == nil {
			t.Fatalf("no namespace %q in %v", p, names)
		}
	}
	// "trail/" is a namespace holding a key with an empty name.
	kids := names["trail/"].Children()
	if len(kids) != 1 || !kids[0].Key || kids[0].Name != "" || kids[0].Prefix != "trail/" {
		t.Fatalf("trail/: %+v", kids)
	}
	if names["a/"].Count != 2 {
		t.Fatalf("a/ counts %d", names["a/"].Count)
	}
}
