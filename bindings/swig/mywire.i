/*
 * mywire.i - the one SWIG interface over the public header capi/mywire.h.
 *
 * The build generates every SWIG binding from this file: Python 3 (the
 * extension module _mywire under the mywire package, see python.i) and Lua
 * 5.4 (lua.i). This top part is language-neutral: which declarations are
 * wrapped and who owns what. Each language's file adds its typemaps (how an
 * out-parameter handle or a (pointer, length) buffer crosses) and its hot-path
 * helpers, and is included below under its SWIG<LANG> macro.
 *
 * Ownership, for every language:
 * - Constructors (mywire_conn_new, mywire_stmt_new, mywire_pipeline_new) and
 *   the calls that produce a result (mywire_query, mywire_next_result,
 *   mywire_stmt_execute[_batch], mywire_pipeline_take_result) hand over a NEW
 *   handle through their `T **out` parameter: the caller owns it and frees it
 *   exactly once. The language part returns it next to the result code.
 * - The destructors take the handle away (%delobject below). Garbage
 *   collectors' finalizers must use the ones that never touch the network:
 *   mywire_result_discard (no draining) and mywire_conn_discard (no
 *   COM_QUIT); mywire_stmt_free never blocks anyway.
 * - The C library allows any order: a result or statement may outlive its
 *   connection (using it then gives MYWIRE_ERROR_STATE, never a crash), so a
 *   collector that frees them in any order is safe as long as each handle is
 *   freed once. The language layers guarantee "once" (wrapper objects that
 *   forget the pointer when they free it).
 */
%module mywire

%{
#include "mywire.h"
%}

%include <stdint.i>

/* The export macro is empty for a consumer of the header. */
#define MYWIRE_API

/* Not wrapped: a C callback (no language-neutral way to pass one), and the
 * deprecated unsigned-long id (mywire_connection_id replaces it). */
%ignore mywire_set_dialog_callback;
%ignore mywire_dialog_fn;
%ignore mywire_thread_id;

/* Borrowed views whose lifetime the C API documents; the structs stay
 * read-only to the languages (the library fills them), and a language never
 * constructs or frees one (it copies values out rather than keep pointers). */
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

/* Destructors: the argument is gone afterwards. */
%delobject mywire_conn_free;
%delobject mywire_conn_discard;
%delobject mywire_result_free;
%delobject mywire_result_discard;
%delobject mywire_stmt_free;
%delobject mywire_pipeline_free;

#ifdef SWIGPYTHON
%include "python.i"
#endif

#ifdef SWIGLUA
%include "lua.i"
#endif

%include "mywire.h"
