// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - one print API for human tables and JSON.
 *
 * Callers describe a value once: print_uint("open_count", "open:%s ", n).
 * In human mode the format is printed (the value converted as the format's
 * single conversion expects, see each function); in JSON mode the value is
 * added under the key to the innermost open object or array.  When the
 * outermost object or array is closed, the JSON text is written as one line.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "rblkadm.h"

#define OUT_MAX_DEPTH 16

static FILE *out_file;
static bool out_json;
static struct json_object *stack[OUT_MAX_DEPTH];
static int depth;

void out_init(FILE *f, bool json)
{
	out_file = f;
	out_json = json;
	depth = 0;
}

bool out_is_json(void)
{
	return out_json;
}

static FILE *of(void)
{
	return out_file ? out_file : stdout;
}

/* Add @v under @key to the current container (consumes @v). */
static void attach(const char *key, struct json_object *v)
{
	struct json_object *parent;

	if (depth == 0) {
		/* a bare value at top level: print it on its own line */
		fprintf(of(), "%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(v);
		return;
	}
	parent = stack[depth - 1];
	if (json_object_is_type(parent, json_type_array))
		json_object_array_add(parent, v);
	else
		json_object_object_add(parent, key ? key : "", v);
}

static void push(const char *key, struct json_object *o)
{
	if (depth >= OUT_MAX_DEPTH) {
		json_object_put(o);
		return;
	}
	if (depth > 0)
		attach(key, json_object_get(o));
	stack[depth++] = o;
}

static void pop(void)
{
	struct json_object *o;

	if (depth == 0)
		return;
	o = stack[--depth];
	if (depth == 0)
		fprintf(of(), "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void out_open_object(const char *key)
{
	if (out_json)
		push(key, json_object_new_object());
}

void out_close_object(void)
{
	if (out_json)
		pop();
}

void out_open_array(const char *key)
{
	if (out_json)
		push(key, json_object_new_array());
}

void out_close_array(void)
{
	if (out_json)
		pop();
}

/* Human mode: @fmt has one %s conversion which receives @value. */
void print_string(const char *key, const char *fmt, const char *value)
{
	if (out_json)
		attach(key, json_object_new_string(value ? value : ""));
	else if (fmt)
		fprintf(of(), fmt, value ? value : "");
}

/* Like print_string(), but NULL is JSON null and is skipped in human mode. */
void print_string_or_null(const char *key, const char *fmt, const char *value)
{
	if (out_json)
		attach(key, value ? json_object_new_string(value) : NULL);
	else if (fmt && value)
		fprintf(of(), fmt, value);
}

/* An enum: lowercase snake_case in JSON, the field's term for humans. */
void print_enum(const char *key, const char *fmt, const char *json_value,
		const char *human_value)
{
	if (out_json)
		attach(key, json_object_new_string(json_value));
	else if (fmt)
		fprintf(of(), fmt, human_value);
}

/* Human mode: @fmt has one %s conversion which receives the decimal value. */
void print_uint(const char *key, const char *fmt, uint64_t value)
{
	char buf[24];

	if (out_json) {
		attach(key, json_object_new_uint64(value));
	} else if (fmt) {
		snprintf(buf, sizeof(buf), "%" PRIu64, value);
		fprintf(of(), fmt, buf);
	}
}

/* Like print_uint(), but NULL is JSON null and is skipped in human mode. */
void print_uint_or_null(const char *key, const char *fmt, const uint64_t *value)
{
	if (value)
		print_uint(key, fmt, *value);
	else if (out_json)
		attach(key, NULL);
}

/*
 * A fixed-point value with two decimals, given in hundredths (4523 is
 * 45.23): a JSON number written exactly so ("45.23"), the same text for
 * humans (one %s conversion).
 */
void print_hundredths(const char *key, const char *fmt, uint64_t hundredths)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 ".%02u", hundredths / 100,
		 (unsigned int)(hundredths % 100));
	if (out_json)
		attach(key, json_object_new_double_s((double)hundredths / 100.0, buf));
	else if (fmt)
		fprintf(of(), fmt, buf);
}

void print_null(const char *key)
{
	if (out_json)
		attach(key, NULL);
}

void print_int(const char *key, const char *fmt, int64_t value)
{
	char buf[24];

	if (out_json) {
		attach(key, json_object_new_int64(value));
	} else if (fmt) {
		snprintf(buf, sizeof(buf), "%" PRId64, value);
		fprintf(of(), fmt, buf);
	}
}

/* Human mode: @fmt has one %s conversion which receives "yes" or "no". */
void print_bool(const char *key, const char *fmt, bool value)
{
	if (out_json)
		attach(key, json_object_new_boolean(value));
	else if (fmt)
		fprintf(of(), fmt, value ? "yes" : "no");
}

/* Like print_bool(), but NULL is JSON null and is skipped in human mode. */
void print_bool_or_null(const char *key, const char *fmt, const bool *value)
{
	if (value)
		print_bool(key, fmt, *value);
	else if (out_json)
		attach(key, NULL);
}

void print_human(const char *fmt, ...)
{
	va_list ap;

	if (out_json)
		return;
	va_start(ap, fmt);
	vfprintf(of(), fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (!out_json)
		fputc('\n', of());
}

void out_flush(void)
{
	while (out_json && depth > 0)
		pop();
	fflush(of());
}
