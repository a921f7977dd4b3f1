package rediserr

import (
	"errors"
	"fmt"
	"testing"
)

// reply is an error as go-redis reports a Redis error reply.
type reply string

func (e reply) Error() string { return string(e) }
func (reply) RedisError()     {}

func TestNoPermission(t *testing.T) {
	for _, c := range []struct {
		err       error
		ok        bool
		kind, cmd string
		describe  string
		grant     string
	}{
		{reply("NOPERM this user has no permissions to run the 'unlink' command"), true, RefusedCommand, "UNLINK",
			`the ACL user "viewer" lacks permission for UNLINK`, "+unlink"},
		{fmt.Errorf("monitor: delete: %w", reply("NOPERM User viewer has no permissions to run the 'config|set' command")), true, RefusedCommand, "CONFIG|SET",
			`the ACL user "viewer" lacks permission for CONFIG|SET`, "+config|set"},
		{reply("NOPERM this user has no permissions to access one of the keys used as arguments"), true, RefusedKey, "",
			`the ACL user "viewer" may not access these keys`, "~<pattern>"},
		{reply("NOPERM this user has no permissions to access one of the channels used as arguments"), true, RefusedChannel, "",
			`the ACL user "viewer" may not use these channels`, "&<pattern>"},
		{reply("WRONGPASS invalid username-password pair"), false, "", "", "", ""},
		{errors.New("NOPERM but not from the server"), false, "", "", "", ""},
	} {
		r, ok := NoPermission(c.err)
		if ok != c.ok || r.Kind != c.kind || r.Command != c.cmd {
			t.Errorf("%v: %+v %v", c.err, r, ok)
			continue
		}
		if ok && (r.Describe("viewer") != c.describe || r.Grant() != c.grant) {
			t.Errorf("%v: %q %q", c.err, r.Describe("viewer"), r.Grant())
		}
	}
	if Code(reply("ERR unknown command")) != "ERR" || Code(errors.New("dial tcp: refused")) != "" {
		t.Error("Code")
	}
}
