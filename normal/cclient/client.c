/*
 * cclient: a C client of the GlobalPlatform TEE Client API, built against
 * OP-TEE's tee_client_api.h and linked with -lteec, that drives oxtee's
 * test pseudo-TA (commands: abi/src/test_pta.rs). It exercises libteec's
 * parameter handling: values, temporary memrefs, allocated and registered
 * shared memory (whole and partial), size queries and error origins.
 *
 * It also drives optee_examples' hello_world TA, which the default (user)
 * build of the OS serves too; without the test PTA (the default build)
 * only that part runs, and the client says so.
 *
 * Prints one line per failed check, then "cclient: N passed, M failed";
 * exits 0 iff nothing failed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

#define CMD_NOOP 0
#define CMD_VALUES 1
#define CMD_MEMREF 2
#define CMD_SHORT_BUFFER 3

static const TEEC_UUID test_pta = {
	0x0a7e5c1d, 0x6b2f, 0x4c3e,
	{ 0x9d, 0x8a, 0x7f, 0x1e, 0x2b, 0x3c, 0x4d, 0x5e }
};

/* optee_examples' hello_world TA (examples/hello_world/ta). */
static const TEEC_UUID hello_ta = {
	0x8aaaf200, 0x2450, 0x11e4,
	{ 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b }
};

/* The test PTA's UUID with the last byte changed: no such TA. */
static const TEEC_UUID unknown_ta = {
	0x0a7e5c1d, 0x6b2f, 0x4c3e,
	{ 0x9d, 0x8a, 0x7f, 0x1e, 0x2b, 0x3c, 0x4d, 0x5f }
};

static unsigned int passed;
static unsigned int failed;

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void check_result(const char *name, TEEC_Result res, uint32_t origin,
			 TEEC_Result want, uint32_t want_origin)
{
	check(res == want && origin == want_origin, name,
	      "got 0x%08x origin %u, want 0x%08x origin %u",
	      res, origin, want, want_origin);
}

static void check_ok(const char *name, TEEC_Result res, uint32_t origin)
{
	check(res == TEEC_SUCCESS, name, "got 0x%08x origin %u", res, origin);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint8_t data_byte(size_t i)
{
	return (uint8_t)(i * 13);
}

static uint32_t data_sum(size_t from, size_t to)
{
	uint32_t sum = 0;
	size_t i = 0;

	for (i = from; i < to; i++)
		sum += data_byte(i);
	return sum;
}

static void fill_data(uint8_t *buf, size_t n)
{
	size_t i = 0;

	for (i = 0; i < n; i++)
		buf[i] = data_byte(i);
}

/* First index in [from, to) where buf differs from what is expected. */
static long first_bad(const uint8_t *buf, size_t from, size_t to,
		      int (*good)(const uint8_t *buf, size_t i))
{
	size_t i = 0;

	for (i = from; i < to; i++)
		if (!good(buf, i))
			return (long)i;
	return -1;
}

static int is_data(const uint8_t *buf, size_t i)
{
	return buf[i] == data_byte(i);
}

static int is_xored(const uint8_t *buf, size_t i)
{
	return buf[i] == (uint8_t)(data_byte(i) ^ 0x5a);
}

static int is_pattern(const uint8_t *buf, size_t i)
{
	return buf[i] == pattern(i);
}

static size_t pattern_base;

static int is_pattern_from_base(const uint8_t *buf, size_t i)
{
	return buf[i] == pattern(i - pattern_base);
}

static void memref_op(TEEC_Operation *op, uint32_t p0_type)
{
	memset(op, 0, sizeof(*op));
	op->paramTypes = TEEC_PARAM_TYPES(p0_type, TEEC_VALUE_OUTPUT,
					  TEEC_NONE, TEEC_NONE);
	op->params[1].value.a = 0xdead;
	op->params[1].value.b = 0xbeef;
}

static void check_memref_result(const char *name, TEEC_Operation *op,
				uint32_t sum, uint32_t size)
{
	check(op->params[1].value.a == sum && op->params[1].value.b == size,
	      name, "p1 = (%u, %u), want (%u, %u)", op->params[1].value.a,
	      op->params[1].value.b, sum, size);
}

static void open_and_values(TEEC_Session *sess)
{
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;

	memset(&op, 0, sizeof(op));
	res = TEEC_InvokeCommand(sess, CMD_NOOP, NULL, &origin);
	check_ok("NOOP (no operation)", res, origin);

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
	res = TEEC_InvokeCommand(sess, CMD_NOOP, &op, &origin);
	check_ok("NOOP", res, origin);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 41;
	op.params[0].value.b = 5;
	res = TEEC_InvokeCommand(sess, CMD_VALUES, &op, &origin);
	check_ok("VALUES", res, origin);
	check(op.params[0].value.a == 42 && op.params[0].value.b == 10,
	      "VALUES inout", "(%u, %u), want (42, 10)",
	      op.params[0].value.a, op.params[0].value.b);
	check(op.params[1].value.a == (41 ^ 5) &&
	      op.params[1].value.b == 0xc0ffee, "VALUES out",
	      "(%u, 0x%x), want (%u, 0xc0ffee)", op.params[1].value.a,
	      op.params[1].value.b, 41 ^ 5);
}

static void temp_memrefs(TEEC_Session *sess)
{
	enum { N = 1000, OUT_N = 777 };
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;
	uint8_t buf[N];
	long bad = 0;

	fill_data(buf, N);
	memref_op(&op, TEEC_MEMREF_TEMP_INPUT);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = N;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("temp input", res, origin);
	check_memref_result("temp input result", &op, data_sum(0, N), N);
	bad = first_bad(buf, 0, N, is_data);
	check(bad < 0, "temp input untouched", "byte %ld changed", bad);

	memref_op(&op, TEEC_MEMREF_TEMP_INOUT);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = N;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("temp inout", res, origin);
	check_memref_result("temp inout result", &op, data_sum(0, N), N);
	bad = first_bad(buf, 0, N, is_xored);
	check(bad < 0, "temp inout bytes", "byte %ld wrong", bad);
	check(op.params[0].tmpref.size == N, "temp inout size", "%zu",
	      op.params[0].tmpref.size);

	memset(buf, 0, sizeof(buf));
	memref_op(&op, TEEC_MEMREF_TEMP_OUTPUT);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = OUT_N;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("temp output", res, origin);
	check_memref_result("temp output result", &op, 0, OUT_N);
	bad = first_bad(buf, 0, OUT_N, is_pattern);
	check(bad < 0, "temp output bytes", "byte %ld wrong", bad);
	check(buf[OUT_N] == 0, "temp output bounds", "byte %d written",
	      OUT_N);
	check(op.params[0].tmpref.size == OUT_N, "temp output size", "%zu",
	      op.params[0].tmpref.size);
}

static void allocated_shm(TEEC_Context *ctx, TEEC_Session *sess)
{
	enum { N = 8192, OFF = 100, LEN = 50, IN_OFF = 200, IN_LEN = 300 };
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;
	uint8_t *b = NULL;
	long bad = 0;

	memset(&shm, 0, sizeof(shm));
	shm.size = N;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	res = TEEC_AllocateSharedMemory(ctx, &shm);
	check_ok("allocate shm", res, 0);
	if (res != TEEC_SUCCESS || !shm.buffer)
		return;
	b = shm.buffer;

	/* Whole, input and output flags: an inout memref. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_WHOLE);
	op.params[0].memref.parent = &shm;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("alloc whole", res, origin);
	check_memref_result("alloc whole result", &op, data_sum(0, N), N);
	bad = first_bad(b, 0, N, is_xored);
	check(bad < 0, "alloc whole bytes", "byte %ld wrong", bad);
	check(op.params[0].memref.size == N, "alloc whole size", "%zu",
	      op.params[0].memref.size);

	/* Partial output at an offset: only that range is written. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_PARTIAL_OUTPUT);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = OFF;
	op.params[0].memref.size = LEN;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("alloc partial out", res, origin);
	check_memref_result("alloc partial out result", &op, 0, LEN);
	pattern_base = OFF;
	bad = first_bad(b, OFF, OFF + LEN, is_pattern_from_base);
	check(bad < 0, "alloc partial out bytes", "byte %ld wrong", bad);
	check(b[OFF - 1] == data_byte(OFF - 1) &&
	      b[OFF + LEN] == data_byte(OFF + LEN), "alloc partial bounds",
	      "bytes outside [%d, %d) written", OFF, OFF + LEN);

	/* Partial input at an offset: the TA sums only that range. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_PARTIAL_INPUT);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = IN_OFF;
	op.params[0].memref.size = IN_LEN;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("alloc partial in", res, origin);
	check_memref_result("alloc partial in result", &op,
			    data_sum(IN_OFF, IN_OFF + IN_LEN), IN_LEN);

	/* A partial reference past the end is refused by the library. */
	memref_op(&op, TEEC_MEMREF_PARTIAL_INPUT);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = N - 10;
	op.params[0].memref.size = 11;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_result("partial out of bounds", res, origin,
		     TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);

	TEEC_ReleaseSharedMemory(&shm);

	/* Whole, output flag only: an output memref. */
	memset(&shm, 0, sizeof(shm));
	shm.size = 4096;
	shm.flags = TEEC_MEM_OUTPUT;
	res = TEEC_AllocateSharedMemory(ctx, &shm);
	check_ok("allocate output shm", res, 0);
	if (res != TEEC_SUCCESS)
		return;
	memref_op(&op, TEEC_MEMREF_WHOLE);
	op.params[0].memref.parent = &shm;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("alloc whole out", res, origin);
	check_memref_result("alloc whole out result", &op, 0, 4096);
	bad = first_bad(shm.buffer, 0, 4096, is_pattern);
	check(bad < 0, "alloc whole out bytes", "byte %ld wrong", bad);
	TEEC_ReleaseSharedMemory(&shm);
}

static void registered_shm(TEEC_Context *ctx, TEEC_Session *sess)
{
	enum { N = 5000, OFF = 1000, LEN = 100, OUT_OFF = 10, OUT_LEN = 20 };
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;
	uint8_t *b = malloc(N);
	long bad = 0;
	size_t i = 0;

	if (!b) {
		check(0, "malloc", "out of memory");
		return;
	}
	memset(&shm, 0, sizeof(shm));
	shm.buffer = b;
	shm.size = N;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	res = TEEC_RegisterSharedMemory(ctx, &shm);
	check_ok("register shm", res, 0);
	if (res != TEEC_SUCCESS) {
		free(b);
		return;
	}
	check(shm.buffer == b, "register keeps buffer", "%p", shm.buffer);

	/* Whole: the TA's changes land in the malloc'd buffer. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_WHOLE);
	op.params[0].memref.parent = &shm;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("registered whole", res, origin);
	check_memref_result("registered whole result", &op, data_sum(0, N), N);
	bad = first_bad(b, 0, N, is_xored);
	check(bad < 0, "registered whole bytes", "byte %ld wrong", bad);

	/* Partial inout: only the range changes. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_PARTIAL_INOUT);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = OFF;
	op.params[0].memref.size = LEN;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("registered partial inout", res, origin);
	check_memref_result("registered partial inout result", &op,
			    data_sum(OFF, OFF + LEN), LEN);
	bad = -1;
	for (i = 0; i < N && bad < 0; i++) {
		int in = i >= OFF && i < OFF + LEN;

		if (in ? !is_xored(b, i) : !is_data(b, i))
			bad = (long)i;
	}
	check(bad < 0, "registered partial inout bytes", "byte %ld wrong",
	      bad);

	/* Partial output at an offset. */
	fill_data(b, N);
	memref_op(&op, TEEC_MEMREF_PARTIAL_OUTPUT);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = OUT_OFF;
	op.params[0].memref.size = OUT_LEN;
	res = TEEC_InvokeCommand(sess, CMD_MEMREF, &op, &origin);
	check_ok("registered partial out", res, origin);
	pattern_base = OUT_OFF;
	bad = first_bad(b, OUT_OFF, OUT_OFF + OUT_LEN, is_pattern_from_base);
	check(bad < 0, "registered partial out bytes", "byte %ld wrong", bad);
	check(b[OUT_OFF - 1] == data_byte(OUT_OFF - 1) &&
	      b[OUT_OFF + OUT_LEN] == data_byte(OUT_OFF + OUT_LEN),
	      "registered partial out bounds", "bytes outside written");

	TEEC_ReleaseSharedMemory(&shm);
	check(shm.buffer == NULL, "release clears buffer", "%p", shm.buffer);
	free(b);
}

static void short_buffers(TEEC_Session *sess)
{
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;
	uint8_t small[10];
	uint8_t exact[64];
	long bad = 0;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].tmpref.buffer = small;
	op.params[0].tmpref.size = sizeof(small);
	op.params[1].value.a = 64;
	res = TEEC_InvokeCommand(sess, CMD_SHORT_BUFFER, &op, &origin);
	check(res == TEEC_ERROR_SHORT_BUFFER, "short buffer",
	      "got 0x%08x origin %u", res, origin);
	check(op.params[0].tmpref.size == 64, "short buffer size",
	      "size %zu, want 64", op.params[0].tmpref.size);

	/* A NULL buffer of size 0 asks for the size. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].tmpref.buffer = NULL;
	op.params[0].tmpref.size = 0;
	op.params[1].value.a = 48;
	res = TEEC_InvokeCommand(sess, CMD_SHORT_BUFFER, &op, &origin);
	check(res == TEEC_ERROR_SHORT_BUFFER, "null memref size query",
	      "got 0x%08x origin %u", res, origin);
	check(op.params[0].tmpref.size == 48, "null memref size",
	      "size %zu, want 48", op.params[0].tmpref.size);

	/* Then a buffer of the size asked for works. */
	memset(&op, 0, sizeof(op));
	memset(exact, 0, sizeof(exact));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].tmpref.buffer = exact;
	op.params[0].tmpref.size = sizeof(exact);
	op.params[1].value.a = 64;
	res = TEEC_InvokeCommand(sess, CMD_SHORT_BUFFER, &op, &origin);
	check_ok("exact buffer", res, origin);
	bad = first_bad(exact, 0, sizeof(exact), is_pattern);
	check(bad < 0, "exact buffer bytes", "byte %ld wrong", bad);
	check(op.params[0].tmpref.size == 64, "exact buffer size", "%zu",
	      op.params[0].tmpref.size);
}

static void errors(TEEC_Context *ctx, TEEC_Session *sess)
{
	TEEC_Session other;
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;

	res = TEEC_OpenSession(ctx, &other, &unknown_ta, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, &origin);
	check_result("unknown UUID", res, origin, TEEC_ERROR_ITEM_NOT_FOUND,
		     TEEC_ORIGIN_TEE);
	if (res == TEEC_SUCCESS)
		TEEC_CloseSession(&other);

	/* VALUES wants a value inout: the TA refuses a value input. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 1;
	res = TEEC_InvokeCommand(sess, CMD_VALUES, &op, &origin);
	check_result("wrong param type", res, origin,
		     TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_TRUSTED_APP);

	/* An undefined type nibble never leaves the library. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(4, TEEC_NONE, TEEC_NONE, TEEC_NONE);
	res = TEEC_InvokeCommand(sess, CMD_NOOP, &op, &origin);
	check_result("undefined param type", res, origin,
		     TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);

	res = TEEC_InvokeCommand(NULL, CMD_NOOP, NULL, &origin);
	check_result("NULL session", res, origin, TEEC_ERROR_BAD_PARAMETERS,
		     TEEC_ORIGIN_API);
}

/* hello_world: increment and decrement a value in the TA. */
static void hello(TEEC_Context *ctx)
{
	TEEC_Session sess;
	TEEC_Operation op;
	uint32_t origin;
	TEEC_Result res;

	memset(&op, 0, sizeof(op));
	res = TEEC_OpenSession(ctx, &sess, &hello_ta, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, &origin);
	check_ok("hello_world: open", res, origin);
	if (res != TEEC_SUCCESS)
		return;
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 42;
	res = TEEC_InvokeCommand(&sess, 0, &op, &origin);
	check(res == TEEC_SUCCESS && op.params[0].value.a == 43,
	      "hello_world: increment", "0x%08x, a = %u", res,
	      op.params[0].value.a);
	res = TEEC_InvokeCommand(&sess, 1, &op, &origin);
	check(res == TEEC_SUCCESS && op.params[0].value.a == 42,
	      "hello_world: decrement", "0x%08x, a = %u", res,
	      op.params[0].value.a);
	TEEC_CloseSession(&sess);
}

int main(void)
{
	TEEC_Context ctx;
	TEEC_Session sess;
	TEEC_Operation op;
	TEEC_Result res = 0;
	uint32_t origin = 0;

	res = TEEC_InitializeContext(NULL, &ctx);
	check_ok("initialize context", res, 0);
	if (res != TEEC_SUCCESS)
		goto out;

	hello(&ctx);

	/* Open with a parameter: it travels both ways. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 7;
	res = TEEC_OpenSession(&ctx, &sess, &test_pta, TEEC_LOGIN_PUBLIC,
			       NULL, &op, &origin);
	if (res == TEEC_ERROR_ITEM_NOT_FOUND && origin == TEEC_ORIGIN_TEE) {
		printf("cclient: no test PTA: this is the OS's default build; "
		       "the test-PTA cases need the test build "
		       "(cargo xtask run --test-build)\n");
		TEEC_FinalizeContext(&ctx);
		goto out;
	}
	check_ok("open session", res, origin);
	if (res != TEEC_SUCCESS) {
		TEEC_FinalizeContext(&ctx);
		goto out;
	}
	check(op.params[0].value.a == 8, "open session param", "a = %u",
	      op.params[0].value.a);

	open_and_values(&sess);
	temp_memrefs(&sess);
	allocated_shm(&ctx, &sess);
	registered_shm(&ctx, &sess);
	short_buffers(&sess);
	errors(&ctx, &sess);

	TEEC_CloseSession(&sess);
	TEEC_FinalizeContext(&ctx);
out:
	printf("cclient: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
