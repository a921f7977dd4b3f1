package ui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// Writes from the Keys view. Each one is refused in read-only mode with
// the reason, asks for confirmation (typed for large or remote deletions),
// backs up what it deletes, runs in a command (cancellable with esc when
// long) and goes through monitor.Actions, which records it in the audit
// log.

// typedConfirmAbove is the deletion size from which the user must type the
// count rather than press enter.
const typedConfirmAbove = 1000

// invalidateRate paces interactive invalidations (keys per second), so a
// large one never monopolises the server.
const invalidateRate = 10_000

// actionMsg reports a finished action.
type actionMsg struct {
	view    string // the view that asked: "keys", "pubsub"
	op      int
	kind    string
	text    string
	deleted []string
	refresh string // a key whose metadata changed
	err     error
	dryRun  *monitor.InvalidateReport
	report  *analysisReport
}

// progressMsg moves the progress dialog of a running action.
type progressMsg struct {
	op     int
	ratio  float64
	status string
	ch     <-chan progressMsg
}

// refuseWrite explains why a write key does nothing in read-only mode.
func (v *keysView) refuseWrite() tea.Cmd {
	if !v.ctx.Conn.Write {
		return warn(v.ctx.Conn.ReadOnlyReason)
	}
	if v.actions == nil {
		return warn("writes are off: no audit log could be opened (see --log-file for the reason)")
	}
	return nil
}

// confirmKind asks for a typed confirmation when a deletion is large or
// the server is not on this machine.
func (v *keysView) confirmKind(n int64) dialogKind {
	if n > typedConfirmAbove || v.ctx.Conn.Remote {
		return dialogTyped
	}
	return dialogConfirm
}

func (v *keysView) startDelete() tea.Cmd {
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	keys := make([]string, 0, len(v.marks))
	for k := range v.marks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		if k := v.selected(); k != "" {
			keys = []string{k}
		}
	}
	if len(keys) == 0 {
		return flash("nothing to delete: select a key, or mark some with space")
	}
	backup, err := v.actions.NewBackupPath("delete")
	if err != nil {
		return warn("cannot create a backup file: " + err.Error())
	}
	n := int64(len(keys))
	body := []string{"Delete " + countNoun(n, "key") + " from " + sanitize.Line(v.ctx.Conn.Display) + "?"}
	body = append(body, sampleLines(keys, 5)...)
	body = append(body, "", "Each key is saved first (DUMP) to "+sanitize.Line(backup), "undo: cachescope restore "+sanitize.Line(backup))
	d := newDialog(v.confirmKind(n), "delete", body...)
	d.expect = strconv.FormatInt(n, 10)
	v.opGen++
	op, actions := v.opGen, v.actions
	d.accept = func(string) tea.Cmd {
		return func() tea.Msg {
			res, err := actions.Delete(context.Background(), keys, monitor.DeleteOptions{Backup: backup})
			text := fmt.Sprintf("deleted %s (backup: %s)", countNoun(res.Deleted, "key"), backup)
			return actionMsg{view: "keys", op: op, kind: "delete", text: text, deleted: keys, err: err}
		}
	}
	v.dialog = d
	return d.focus()
}

// sampleLines lists up to n keys, sanitized, and how many more there are.
func sampleLines(keys []string, n int) []string {
	var out []string
	for i, k := range keys {
		if i == n {
			out = append(out, fmt.Sprintf("  … and %s more", groupThousands(int64(len(keys)-n))))
			break
		}
		out = append(out, "  "+sanitize.Truncate(keyLabel(k), 70))
	}
	return out
}

func (v *keysView) startTTL() tea.Cmd {
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	k := v.selected()
	if k == "" {
		return flash("select a key first")
	}
	d := newDialog(dialogInput, "set TTL", "Time to live for "+sanitize.Truncate(keyLabel(k), 60),
		"30s, 10m, 2h… or none to remove the TTL")
	actions := v.actions
	d.accept = func(value string) tea.Cmd {
		persist := value == "none" || value == "persist" || value == "0"
		ttl, err := time.ParseDuration(value)
		if !persist && (err != nil || ttl <= 0) {
			return warn("not a TTL: " + sanitize.Line(value) + " (use 30s, 10m, 2h or none)")
		}
		return func() tea.Msg {
			var ok bool
			var err error
			text := "TTL of " + keyLabel(k) + " set to " + value
			if persist {
				ok, err = actions.Persist(context.Background(), k)
				text = "TTL of " + keyLabel(k) + " removed"
			} else {
				ok, err = actions.Expire(context.Background(), k, ttl)
			}
			if err == nil && !ok {
				text = keyLabel(k) + " did not change (gone, or had no TTL)"
			}
			return actionMsg{view: "keys", kind: "ttl", text: text, refresh: k, err: err}
		}
	}
	v.dialog = d
	return d.focus()
}

func (v *keysView) startBump() tea.Cmd {
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	d := newDialog(dialogInput, "bump a version",
		"Version name (cachecore.VersionedKey): every entry of the current version becomes unreachable at once;",
		"old entries expire by their TTL.")
	actions := v.actions
	d.accept = func(name string) tea.Cmd {
		if name == "" {
			return warn("a version needs a name")
		}
		return func() tea.Msg {
			ver, err := actions.BumpVersion(context.Background(), "", name)
			return actionMsg{view: "keys", kind: "bump", text: fmt.Sprintf("%s is now at version %d", sanitize.Line(name), ver), err: err}
		}
	}
	v.dialog = d
	return d.focus()
}

// startInvalidate asks for a pattern, then counts what it matches (a dry
// run, allowed in read-only mode) before asking to delete.
func (v *keysView) startInvalidate(pattern string) tea.Cmd {
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	d := newDialog(dialogInput, "invalidate", "Pattern of the keys to delete (a Redis glob, e.g. product:1*).",
		"Next: how many keys match and a sample, before anything is deleted.")
	d.input.SetValue(pattern)
	d.input.CursorEnd()
	d.accept = func(p string) tea.Cmd {
		if p == "" {
			return warn("invalidate needs a pattern")
		}
		return v.dryRun(p)
	}
	v.dialog = d
	return d.focus()
}

// runWithProgress runs work in a command and shows its progress in a
// dialog; esc cancels its context.
func (v *keysView) runWithProgress(title string, work func(ctx context.Context, progress func(ratio float64, status string)) tea.Msg) tea.Cmd {
	v.opGen++
	op := v.opGen
	ctx, cancel := context.WithCancel(context.Background())
	d := newDialog(dialogProgress, title)
	d.cancel = cancel
	d.status = "starting…"
	v.dialog = d
	ch := make(chan progressMsg, 1)
	report := func(ratio float64, status string) {
		m := progressMsg{op: op, ratio: ratio, status: status, ch: ch}
		select { // the newest wins: a slow screen never holds the work up
		case ch <- m:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- m:
			default:
			}
		}
	}
	run := func() tea.Msg {
		defer cancel()
		defer close(ch)
		return work(ctx, report)
	}
	return tea.Batch(run, waitProgress(ch))
}

func waitProgress(ch <-chan progressMsg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

func (v *keysView) onProgress(msg progressMsg) tea.Cmd {
	if msg.op != v.opGen || v.dialog == nil || v.dialog.kind != dialogProgress {
		return nil
	}
	v.dialog.setProgress(msg.ratio, msg.status)
	return waitProgress(msg.ch)
}

func (v *keysView) dryRun(pattern string) tea.Cmd {
	actions := v.actions
	return v.runWithProgress("counting "+sanitize.Line(pattern), func(ctx context.Context, progress func(float64, string)) tea.Msg {
		rep, err := actions.Invalidate(ctx, pattern, monitor.InvalidateOptions{DryRun: true, SampleSize: 5,
			Progress: func(r monitor.InvalidateReport) {
				progress(ratio(r.Scanned, max(r.Scanned, 1)), fmt.Sprintf("examined %s · %s match", groupThousands(r.Scanned), groupThousands(r.Matched)))
			}})
		return actionMsg{view: "keys", kind: "dryrun", dryRun: &rep, err: err}
	})
}

// confirmInvalidate shows what a dry run found and asks to go ahead.
func (v *keysView) confirmInvalidate(rep monitor.InvalidateReport) tea.Cmd {
	pattern := rep.Pattern
	if rep.Matched == 0 {
		v.dialog = newDialog(dialogMessage, "invalidate", "No key matches "+sanitize.Line(pattern)+
			fmt.Sprintf(" (%s keys examined). Nothing to delete.", groupThousands(rep.Scanned)))
		return nil
	}
	backup, err := v.actions.NewBackupPath("invalidate")
	if err != nil {
		return warn("cannot create a backup file: " + err.Error())
	}
	body := []string{fmt.Sprintf("%s match %s on %s (of %s examined). Sample:", countNoun(rep.Matched, "key"),
		sanitize.Line(pattern), sanitize.Line(v.ctx.Conn.Display), groupThousands(rep.Scanned))}
	body = append(body, sampleLines(rep.Sample, 5)...)
	body = append(body, "", fmt.Sprintf("Deleted at most %s keys/s; every key is saved first (DUMP) to", groupThousands(invalidateRate)),
		sanitize.Line(backup), "undo: cachescope restore "+sanitize.Line(backup))
	d := newDialog(v.confirmKind(rep.Matched), "invalidate "+sanitize.Line(pattern), body...)
	d.expect = strconv.FormatInt(rep.Matched, 10)
	if d.kind == dialogTyped {
		d.body = append(d.body, "", "Type the number of keys ("+d.expect+") to confirm.")
	}
	d.accept = func(string) tea.Cmd { return v.invalidate(pattern, rep.Matched, backup) }
	v.dialog = d
	return d.focus()
}

func (v *keysView) invalidate(pattern string, expected int64, backup string) tea.Cmd {
	actions := v.actions
	return v.runWithProgress("invalidating "+sanitize.Line(pattern), func(ctx context.Context, progress func(float64, string)) tea.Msg {
		rep, err := actions.Invalidate(ctx, pattern, monitor.InvalidateOptions{MaxRate: invalidateRate, Backup: backup,
			Progress: func(r monitor.InvalidateReport) {
				progress(ratio(r.Deleted, max(expected, r.Matched)), fmt.Sprintf("deleted %s of %s · %s",
					groupThousands(r.Deleted), groupThousands(max(expected, r.Matched)), fmtDuration(r.Duration.Round(time.Millisecond))))
			}})
		text := fmt.Sprintf("Deleted %s matching %s in %s.", countNoun(rep.Deleted, "key"), sanitize.Line(pattern),
			fmtDuration(rep.Duration.Round(time.Millisecond)))
		if ctx.Err() != nil {
			text = fmt.Sprintf("Stopped: %s of %s deleted.", groupThousands(rep.Deleted), groupThousands(expected))
			err = nil
		}
		text += "\nBackup: " + sanitize.Line(backup) + "\nRestore with: cachescope restore " + sanitize.Line(backup)
		return actionMsg{view: "keys", kind: "invalidate", text: text, err: err}
	})
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// onAction shows an action's outcome and updates the view.
func (v *keysView) onAction(msg actionMsg) tea.Cmd {
	if msg.view != "keys" {
		return nil
	}
	if v.dialog != nil && v.dialog.kind == dialogProgress {
		v.dialog = nil
	}
	if msg.err != nil {
		return warn(msg.kind + " failed: " + sanitize.Line(msg.err.Error()))
	}
	switch msg.kind {
	case "dryrun":
		return v.confirmInvalidate(*msg.dryRun)
	case "invalidate":
		v.dialog = newDialog(dialogMessage, "invalidate", strings.Split(msg.text, "\n")...)
		return v.browse(v.query)
	case "analyze":
		v.report = msg.report
		return nil
	case "delete":
		v.removeRows(msg.deleted)
		return tea.Batch(flash(msg.text), v.requestMeta(), v.selectionChanged())
	case "ttl":
		delete(v.meta, msg.refresh)
		v.refreshRows()
		return tea.Batch(flash(msg.text), v.requestMeta(), v.selectionChanged())
	}
	return flash(msg.text)
}

// removeRows drops deleted keys from the list, the tree and the marks.
func (v *keysView) removeRows(keys []string) {
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
		delete(v.marks, k)
		delete(v.meta, k)
	}
	kept := v.rows[:0]
	for _, k := range v.rows {
		if !gone[k] {
			kept = append(kept, k)
		}
	}
	v.rows = kept
	v.tree = monitor.NewTree("")
	v.tree.Add(v.rows...)
	v.tree.SetComplete(v.page.Done)
	v.refreshRows()
	if gone[v.detail.key] {
		v.detail.key = ""
	}
}
