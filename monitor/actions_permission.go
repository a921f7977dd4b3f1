package monitor

import (
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/rediserr"
)

// ErrNoPermission is what a write refused by the server's ACL (NOPERM)
// returns: errors.Is(err, ErrNoPermission) holds, and err.Error() says
// which user lacks which permission, for the user to read:
//
//	the ACL user "viewer" lacks permission for UNLINK (NOPERM): ...
//
// Read-only mode (ErrReadOnly) is decided before anything is sent; this is
// the server refusing what write mode allowed. Redis gives a restricted
// user no way to ask in advance which commands it may run (ACL DRYRUN is
// itself an administrator's command), so the refusal of the first write is
// how cachescope learns it.
var ErrNoPermission = errors.New("monitor: no permission")

// permissionError is a NOPERM refusal, explained.
type permissionError struct {
	refusal rediserr.Refusal
	user    string
	err     error
}

func (e permissionError) Error() string {
	msg := e.refusal.Describe(e.user)
	if e.refusal.Command == "DUMP" || e.refusal.Command == "PTTL" {
		msg += " (for the backup taken before deleting)"
	}
	msg += " (NOPERM)"
	if g := e.refusal.Grant(); g != "" {
		msg += ": an administrator can grant it with ACL SETUSER " + userOrDefault(e.user) + " " + g +
			", or connect as a user that has it"
	}
	return msg
}

func (e permissionError) Unwrap() error        { return e.err }
func (e permissionError) Explained()           {}
func (e permissionError) Is(target error) bool { return target == ErrNoPermission }

func userOrDefault(u string) string {
	if u == "" {
		return "default"
	}
	return u
}

// explainPermission turns a NOPERM refusal in err into a permissionError
// naming the user and what it lacks; other errors pass unchanged.
func explainPermission(rdb redis.UniversalClient, err error) error {
	if err == nil || errors.Is(err, ErrNoPermission) {
		return err
	}
	r, ok := rediserr.NoPermission(err)
	if !ok {
		return err
	}
	return permissionError{refusal: r, user: clientUser(rdb), err: err}
}

// clientUser is the ACL user a client authenticates as; "" for the
// default user.
func clientUser(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().Username
	case *redis.ClusterClient:
		return c.Options().Username
	case *redis.Ring:
		return c.Options().Username
	}
	return ""
}
