package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// The keys view browses a pattern page by page, asks the metadata of the
// rows it shows, and sanitizes keys only when it draws them: the raw key
// is what a later delete needs.
func ExampleKeys_Browse() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	keys := monitor.NewKeys(rdb, monitor.KeysOptions{})
	ctx := context.Background()

	b, err := keys.Browse(monitor.Query{Pattern: "user:*"})
	if err != nil {
		panic(err) // an invalid type filter
	}
	for !b.Done() {
		page, err := b.Next(ctx)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		metas, _ := keys.Meta(ctx, page.Keys)
		for _, m := range metas {
			if m.Exists {
				fmt.Println(m.Type, monitor.FormatTTL(m.TTL, m.HasTTL), sanitize.Line(m.Key))
			}
		}
		fmt.Printf("examined %d of ~%d keys\n", page.Examined, page.Total)
	}
}

// A value is read one window at a time: a string by GETRANGE, a
// collection by ranges or cursor pages.
func ExampleKeys_ReadValue() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	keys := monitor.NewKeys(rdb, monitor.KeysOptions{})
	ctx := context.Background()

	meta, err := keys.Inspect(ctx, "session:42")
	if errors.Is(err, monitor.ErrNoSuchKey) {
		fmt.Println("gone")
		return
	}
	page, err := keys.ReadValue(ctx, meta.Key, meta.Type, monitor.ValueAt{})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	if meta.Type == monitor.TypeString {
		d := monitor.DecodeValue(page.Data, page.Truncated())
		fmt.Println(d.Kind, sanitize.Text(d.Text))
	}
	for _, e := range page.Elements {
		fmt.Println(sanitize.Line(e.Field), sanitize.Line(e.Value))
	}
}

// Every write goes through Actions: refused in read-only mode, backed up,
// recorded in the audit log.
func ExampleActions_Invalidate() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	acts, err := monitor.NewActions(rdb, monitor.ActionsOptions{Write: true, Server: "localhost:6379"})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	preview, err := acts.Invalidate(ctx, "product:*", monitor.InvalidateOptions{DryRun: true})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(preview.Matched, "keys match, for example", preview.Sample)

	backup, _ := acts.NewBackupPath(monitor.ActionInvalidate)
	rep, err := acts.Invalidate(ctx, "product:*", monitor.InvalidateOptions{MaxRate: 5000, Backup: backup})
	fmt.Println("deleted", rep.Deleted, "backup", rep.Backup, err)

	// The undo.
	res, err := acts.Restore(ctx, backup)
	fmt.Println("restored", res.Restored, "expired meanwhile", res.Expired, err)
}

func ExampleDecodeValue() {
	d := monitor.DecodeValue(`{"id":1,"tags":["a"]}`, false)
	fmt.Println(d.Kind)
	fmt.Println(d.Text)
	fmt.Print(monitor.DecodeValue("\x00\x01hi", false).Text)
	// Output:
	// json
	// {
	//   "id": 1,
	//   "tags": [
	//     "a"
	//   ]
	// }
	// 00000000  00 01 68 69                                       |..hi|
}

func ExampleTree() {
	t := monitor.NewTree(":")
	t.Add("user:1", "user:2", "user:2:cart", "config")
	for _, n := range t.Root().Children() {
		fmt.Printf("%s %q %d key=%v\n", n.Name, n.Prefix, n.Count, n.Key)
	}
	// Output:
	// user "user:" 3 key=false
	// config "config" 1 key=true
}
