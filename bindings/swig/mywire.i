/* mywire.i - the one SWIG interface over the public header capi/mywire.h.
 *
 * Every target language's module is generated from this file; what is
 * specific to one language lives in its own file, included below before the
 * header (typemaps must be seen before the declarations they apply to):
 * lua.i for Lua 5.4.
 *
 * Ownership, the same in every language:
 * - The four handle types (mywire_conn, mywire_result, mywire_stmt,
 *   mywire_pipeline) are created only through the out-parameters of the
 *   header's functions (mywire_conn_new, mywire_query, mywire_stmt_new, ...)
 *   and are owned by the wrapper object made for them: one owner per handle.
 * - The wrapper's finalizer never blocks and never does network I/O:
 *   mywire_conn_discard (closes the socket without COM_QUIT),
 *   mywire_result_discard (never drains), mywire_stmt_free (COM_STMT_CLOSE is
 *   queued, not sent), mywire_pipeline_free (memory only).
 * - The explicit destructors (mywire_conn_free, mywire_result_free, ...)
 *   clear the wrapper's pointer, so a later call on it sees NULL (the header's
 *   functions accept NULL handles: MYWIRE_ERROR_ARGUMENT or a no-op) and the
 *   finalizer has nothing left to free: never a double free.
 * - Results and statements may outlive their connection in any order (the
 *   header guarantees it: a streaming result then fetches MYWIRE_ERROR_STATE,
 *   a statement executes to MYWIRE_ERROR_STATE), so a garbage collector may
 *   finalize the objects in any order.
 * - mywire_column and mywire_value are handed out only by pointer into memory
 *   the library owns (valid until the result is freed / the next fetch): a
 *   wrapper never constructs or frees them, and a language should copy them
 *   out rather than keep such pointers.
 */
%module mywire

%{
#include "mywire.h"
%}

%include <stdint.i>

/* Borrowed, read-only structs (see above). */
%nodefaultctor mywire_column;
%nodefaultdtor mywire_column;
%nodefaultctor mywire_value;
%nodefaultdtor mywire_value;
%immutable mywire_column::name;
%immutable mywire_column::org_name;
%immutable mywire_column::table;
%immutable mywire_column::org_table;
%immutable mywire_column::schema;
%immutable mywire_value::data;

#ifdef SWIGLUA
%include "lua.i"
#endif

%include "mywire.h"
