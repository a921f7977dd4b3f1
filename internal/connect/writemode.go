package connect

// WriteMode decides whether the dashboard may write (delete, expire,
// invalidate, publish). --write and --read-only win; otherwise writes are on
// for a server on this machine and off for any other, because one careless
// key press on a shared production cache hurts everyone. reason explains a
// read-only decision to the user.
func WriteMode(t *Target, write, readOnly bool) (allowed bool, reason string) {
	switch {
	case readOnly:
		return false, "read-only mode (--read-only)"
	case write:
		return true, ""
	case t.Loopback:
		return true, ""
	}
	return false, "read-only: " + t.Display + " is not on this machine; restart with --write to allow changes"
}
