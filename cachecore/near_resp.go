package cachecore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A minimal RESP3 reader for the near cache's tracking connection, which
// go-redis does not expose: it reads replies to the few commands that
// connection sends (HELLO, CLIENT TRACKING, PING) and the server's push
// messages. Everything the server sends is untrusted: sizes are bounded and
// a malformed frame is an error that drops the connection (and with it the
// near cache's contents), never a panic.

// respError is an error reply (-ERR ..., !<bulk error>).
type respError string

func (e respError) Error() string { return string(e) }

// respPush is a push message (>): out-of-band data such as "invalidate".
type respPush []any

const (
	maxRespBulk  = 512 << 20 // Redis' own limit for a string
	maxRespItems = 1 << 24   // elements of one aggregate
	maxRespDepth = 16        // nesting of aggregates
)

var errRespProtocol = errors.New("cachecore: near cache: malformed reply from the server")

// readResp reads one value: string (simple or bulk), int64, float/big number
// and verbatim strings as string, nil, bool, []any (array, set, map as
// key/value pairs), respPush, respError. Attributes are skipped.
func readResp(r *bufio.Reader) (any, error) { return readRespDepth(r, 0) }

func readRespDepth(r *bufio.Reader, depth int) (any, error) {
	if depth > maxRespDepth {
		return nil, fmt.Errorf("%w: nested too deep", errRespProtocol)
	}
	line, err := readRespLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("%w: empty line", errRespProtocol)
	}
	kind, rest := line[0], string(line[1:])
	switch kind {
	case '+', ',', '(':
		return rest, nil
	case '-':
		return respError(rest), nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: integer %q", errRespProtocol, rest)
		}
		return n, nil
	case '_':
		return nil, nil
	case '#':
		return rest == "t", nil
	case '$', '=', '!':
		n, err := respLen(rest, maxRespBulk)
		if err != nil || n < 0 {
			return nil, err // $-1 (RESP2 null) reads as nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return nil, fmt.Errorf("%w: bulk string not terminated", errRespProtocol)
		}
		s := string(buf[:n])
		if kind == '!' {
			return respError(s), nil
		}
		if kind == '=' && len(s) >= 4 { // verbatim: "txt:" + text
			s = s[4:]
		}
		return s, nil
	case '*', '~', '>', '%', '|':
		n, err := respLen(rest, maxRespItems)
		if err != nil || n < 0 {
			return nil, err
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		items := make([]any, 0, min(n, 1024))
		for i := 0; i < n; i++ {
			v, err := readRespDepth(r, depth+1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		switch kind {
		case '>':
			return respPush(items), nil
		case '|': // an attribute precedes the real reply; a chain of them
			// counts as nesting, so a hostile stream of attributes ends in
			// an error, not a stack overflow
			return readRespDepth(r, depth+1)
		}
		return items, nil
	}
	return nil, fmt.Errorf("%w: unknown type %q", errRespProtocol, kind)
}

func respLen(s string, limit int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n > limit {
		return 0, fmt.Errorf("%w: length %q", errRespProtocol, s)
	}
	return n, nil
}

// readRespLine reads a line without its CRLF; lines are short (types,
// lengths, simple strings), so one longer than 64 KiB is an error.
func readRespLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: line too long", errRespProtocol)
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", errRespProtocol)
	}
	return line[:len(line)-2], nil
}

// appendRespCommand encodes a command as a RESP array of bulk strings.
func appendRespCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
