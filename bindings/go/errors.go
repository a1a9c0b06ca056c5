package mywire

/*
#include "helpers.h"
*/
import "C"

import (
	"database/sql/driver"
	"errors"
	"fmt"
)

// Result codes of the C API (enum mywire_code in mywire.h), the values of
// Error.Code. They are taken from the header by cgo, not written out here.
const (
	CodeServer         = int(C.MYWIRE_ERROR_SERVER)
	CodeArgument       = int(C.MYWIRE_ERROR_ARGUMENT)
	CodeOption         = int(C.MYWIRE_ERROR_OPTION)
	CodeURI            = int(C.MYWIRE_ERROR_URI)
	CodeNoMem          = int(C.MYWIRE_ERROR_NOMEM)
	CodeConnect        = int(C.MYWIRE_ERROR_CONNECT)
	CodeTimeout        = int(C.MYWIRE_ERROR_TIMEOUT)
	CodeLost           = int(C.MYWIRE_ERROR_LOST)
	CodeProtocol       = int(C.MYWIRE_ERROR_PROTOCOL)
	CodeAuth           = int(C.MYWIRE_ERROR_AUTH)
	CodeOutOfSync      = int(C.MYWIRE_ERROR_OUT_OF_SYNC)
	CodeState          = int(C.MYWIRE_ERROR_STATE)
	CodeLimit          = int(C.MYWIRE_ERROR_LIMIT)
	CodeUnsupported    = int(C.MYWIRE_ERROR_UNSUPPORTED)
	CodeInternal       = int(C.MYWIRE_ERROR_INTERNAL)
	CodeTLS            = int(C.MYWIRE_ERROR_TLS)
	CodeCancelled      = int(C.MYWIRE_ERROR_CANCELLED)
	CodeResultTooLarge = int(C.MYWIRE_ERROR_RESULT_TOO_LARGE)
	CodeConversion     = int(C.MYWIRE_ERROR_CONVERSION)
)

// Error is a failure reported by libmywire: a server error (Code ==
// CodeServer, with the server's Number and SQLState, e.g. 1146 and "42S02")
// or a client-side one (Number 0, SQLState "HY000", a message written by
// mywire). The server's Message is untrusted text.
//
// errors.Is(err, driver.ErrBadConn) is true only when the failure closed the
// connection before any byte of the command was written to it (the server
// cannot have run it, so database/sql may retry on another connection).
type Error struct {
	Code        int    // a Code* constant (MYWIRE_ERROR_* of mywire.h)
	Number      uint   // the server's error number; 0 for client errors
	SQLState    string // five characters
	Message     string
	ClientError int  // where a client error happened (MYWIRE_CLIENT_ERROR_*)
	Sent        bool // at least one byte of the failing command reached the socket
	Closed      bool // the failure closed the connection

	badConn bool
}

func (e *Error) Error() string {
	if e.Code == CodeServer {
		return fmt.Sprintf("mywire: server error %d (%s): %s", e.Number, e.SQLState, e.Message)
	}
	return fmt.Sprintf("mywire: %s: %s", codeText(e.Code), e.Message)
}

// Is reports driver.ErrBadConn for a connection that failed before the
// command was sent.
func (e *Error) Is(target error) bool {
	return target == driver.ErrBadConn && e.badConn
}

func codeText(code int) string {
	return C.GoString(C.mywire_errstr(C.int(code)))
}

// errorOf reads the error recorded on h after a failed call that returned rc.
func errorOf(h *C.mywire_conn, rc C.int) *Error {
	e := &Error{
		Code:        int(rc),
		Number:      uint(C.mywire_errno(h)),
		SQLState:    C.GoString(C.mywire_sqlstate(h)),
		Message:     C.GoString(C.mywire_errmsg(h)),
		ClientError: int(C.mywire_client_error(h)),
		Sent:        C.mywire_error_sent(h) != 0,
		Closed:      C.mywire_is_connected(h) == 0,
	}
	if C.mywire_errcode(h) != rc {
		// The code came from somewhere that records nothing on the handle
		// (a statement without a connection, a typed getter): keep the code.
		e.Number, e.SQLState, e.Message = 0, "HY000", codeText(int(rc))
		e.ClientError, e.Sent = 0, false
	}
	e.badConn = e.Closed && !e.Sent
	return e
}

var (
	// errClosed: the driver connection was closed by Close (nothing was sent).
	errClosed = fmt.Errorf("mywire: the connection is closed: %w", driver.ErrBadConn)
	// errBusy: a command was issued while a Rows of the same connection is
	// still being read (database/sql lets a Tx or Conn do that).
	errBusy = errors.New("mywire: a Rows of this connection is still open: read it to its end or close it first")
)
