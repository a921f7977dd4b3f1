// Package rediserr reads what Redis error replies mean, so messages can
// tell the user what went wrong and what to do about it. It knows the
// wording of Redis 6.0 to 7.4.
package rediserr

import (
	"errors"
	"regexp"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Reply returns the Redis error reply in err's chain and whether there is
// one (as opposed to a network or client failure).
func Reply(err error) (string, bool) {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return rerr.Error(), true
	}
	return "", false
}

// Code returns the code of the Redis error reply in err's chain: its first
// word when upper case ("NOPERM", "WRONGPASS", "ERR"); "" when err holds no
// reply.
func Code(err error) string {
	msg, ok := Reply(err)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(msg, " ")
	if code == strings.ToUpper(code) {
		return code
	}
	return ""
}

// What a NOPERM refusal was about.
const (
	RefusedCommand = "command"
	RefusedKey     = "key"
	RefusedChannel = "channel"
)

// Refusal is what an ACL refused.
type Refusal struct {
	// Kind is RefusedCommand, RefusedKey or RefusedChannel.
	Kind string
	// Command is the refused command in upper case ("UNLINK",
	// "CONFIG|SET"), for RefusedCommand; "" when the server did not name
	// it.
	Command string
}

var quotedCommand = regexp.MustCompile(`'([^']{1,64})' command`)

// NoPermission reports whether err is a NOPERM reply and what it refused.
func NoPermission(err error) (Refusal, bool) {
	if Code(err) != "NOPERM" {
		return Refusal{}, false
	}
	msg, _ := Reply(err)
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "channel"):
		return Refusal{Kind: RefusedChannel}, true
	case strings.Contains(lower, "key"):
		return Refusal{Kind: RefusedKey}, true
	}
	r := Refusal{Kind: RefusedCommand}
	if m := quotedCommand.FindStringSubmatch(msg); m != nil {
		r.Command = strings.ToUpper(m[1])
	}
	return r, true
}

// Describe says what an ACL refusal means for user ("" means the default
// user), in a phrase: `the ACL user "viewer" lacks permission for UNLINK`.
func (r Refusal) Describe(user string) string {
	who := "the ACL user"
	if user != "" {
		who += ` "` + user + `"`
	} else {
		who += ` "default"`
	}
	switch r.Kind {
	case RefusedKey:
		return who + " may not access these keys"
	case RefusedChannel:
		return who + " may not use these channels"
	}
	if r.Command == "" {
		return who + " lacks permission for this command"
	}
	return who + " lacks permission for " + r.Command
}

// Grant is the ACL rule that would allow what was refused ("+unlink"), or
// "" when there is no single rule to name.
func (r Refusal) Grant() string {
	switch {
	case r.Kind == RefusedKey:
		return "~<pattern>"
	case r.Kind == RefusedChannel:
		return "&<pattern>"
	case r.Command != "":
		return "+" + strings.ToLower(r.Command)
	}
	return ""
}

// Explained is an error that already says, for a person, what went wrong
// and what to do (monitor's ACL refusals): messages use its text as it is
// rather than explaining the Redis reply inside it again.
type Explained interface {
	error
	Explained()
}
