/* gilsafe.kernels._cext: the talk's C-extension pi kernel (slides 15-17), and a tuned one.
 *
 * Every loop runs between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS: no Python object is
 * touched there, so other threads run Python (or this kernel) at the same time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

/* The talk's kernel: rand_r with a private seed, so threads never share RNG state. */
static PyObject *pi_hits_rand_r(PyObject *self, PyObject *args) {
    long long n;
    unsigned int seed;
    if (!PyArg_ParseTuple(args, "LI", &n, &seed)) return NULL;
    long long hits = 0;
    Py_BEGIN_ALLOW_THREADS
    for (long long i = 0; i < n; ++i) {
        double x = (double)rand_r(&seed) / (double)RAND_MAX;
        double y = (double)rand_r(&seed) / (double)RAND_MAX;
        if (x * x + y * y <= 1.0) hits += 1;
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLongLong(hits);
}

/* E5's other side: random() keeps one state for the whole process behind a lock inside libc,
 * so threads calling it serialise on that lock (and on the cache line holding the state). */
static PyObject *pi_hits_shared_random(PyObject *self, PyObject *args) {
    long long n;
    unsigned int seed;
    if (!PyArg_ParseTuple(args, "LI", &n, &seed)) return NULL;
    long long hits = 0;
    Py_BEGIN_ALLOW_THREADS
    for (long long i = 0; i < n; ++i) {
        double x = (double)random() / (double)RAND_MAX;
        double y = (double)random() / (double)RAND_MAX;
        if (x * x + y * y <= 1.0) hits += 1;
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLongLong(hits);
}

/* xoroshiro128+ (Blackman and Vigna), one private state per call: a few cycles per number. */
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static PyObject *pi_hits_xoroshiro(PyObject *self, PyObject *args) {
    long long n;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "LK", &n, &seed)) return NULL;
    long long hits = 0;
    Py_BEGIN_ALLOW_THREADS
    uint64_t sm = seed;
    uint64_t s0 = splitmix64(&sm), s1 = splitmix64(&sm);
    const double scale = 1.0 / 9007199254740992.0; /* 2^-53 */
    for (long long i = 0; i < n; ++i) {
        uint64_t r = s0 + s1;
        s1 ^= s0; s0 = rotl(s0, 24) ^ s1 ^ (s1 << 16); s1 = rotl(s1, 37);
        double x = (double)(r >> 11) * scale;
        r = s0 + s1;
        s1 ^= s0; s0 = rotl(s0, 24) ^ s1 ^ (s1 << 16); s1 = rotl(s1, 37);
        double y = (double)(r >> 11) * scale;
        hits += (x * x + y * y <= 1.0);
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLongLong(hits);
}

/* E12's count kernel: non-zero doubles in a buffer, read without the GIL. */
static PyObject *count_nonzero_f64(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    const double *values = (const double *)view.buf;
    Py_ssize_t count = view.len / (Py_ssize_t)sizeof(double);
    long long nonzero = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; ++i) nonzero += (values[i] != 0.0);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(nonzero);
}

static PyMethodDef methods[] = {
    {"pi_hits_rand_r", pi_hits_rand_r, METH_VARARGS, "Hits in the unit circle of n shots (rand_r, private seed), GIL released."},
    {"pi_hits_shared_random", pi_hits_shared_random, METH_VARARGS, "Hits of n shots drawn from libc random() (one shared state), GIL released."},
    {"pi_hits_xoroshiro", pi_hits_xoroshiro, METH_VARARGS, "Hits of n shots (xoroshiro128+, private state), GIL released."},
    {"count_nonzero_f64", count_nonzero_f64, METH_VARARGS, "Non-zero float64 values in a buffer, GIL released."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_GIL_DISABLED
    /* Nothing here touches Python state without the GIL, so free-threaded builds may keep it off. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cext", "GIL-releasing C kernels for gilsafe stress.", 0, methods, slots,
};

PyMODINIT_FUNC PyInit__cext(void) { return PyModuleDef_Init(&module); }
