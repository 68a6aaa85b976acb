"""TensorFlow: ops run in its C++ runtime (its own thread pools) with the GIL released."""

from __future__ import annotations

import functools
import os

from gilsafe.kernels import installed

NAME = "tensorflow"
RELEASES_GIL = "op execution in the C++ runtime, eager or graph; not the Python that builds or calls them"
PACKAGES = ("tensorflow",)  # what its kernels import
WHILE_LOOPS = 1000  # the talk's "1000 While" graph (slide 53)
PARALLEL_BRANCHES = 10  # the talk's "10 Parallel" graph (slide 54)


def available() -> tuple[bool, str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep its start-up chatter off the results
    return installed("tensorflow")


def device_available(device: str) -> tuple[bool, str]:
    import tensorflow as tf

    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        return False, "tensorflow: no GPU device"
    return True, ""


def _pi_ops(tf, n):
    """The talk's eager form (slide 52): random_uniform, multiply, add, less_equal, count_nonzero."""
    xs = tf.random.uniform(shape=[n], minval=0.0, maxval=1.0, dtype=tf.float64)
    ys = tf.random.uniform(shape=[n], minval=0.0, maxval=1.0, dtype=tf.float64)
    rs = tf.add(tf.multiply(xs, xs), tf.multiply(ys, ys))
    ones = tf.ones([n], dtype=tf.float64)
    lss = tf.less_equal(rs, ones)
    return tf.math.count_nonzero(lss, dtype=tf.int64)


@functools.lru_cache(maxsize=None)
def _graphs():
    import tensorflow as tf

    @tf.function
    def function_pi(n):
        return _pi_ops(tf, n)

    @tf.function
    def while_pi(n, loops):
        def body(i, hits):
            return i + 1, hits + _pi_ops(tf, n)

        _, hits = tf.while_loop(lambda i, hits: i < loops, body, [tf.constant(0), tf.constant(0, dtype=tf.int64)])
        return hits

    @tf.function
    def parallel_pi(step):
        hits = tf.zeros([], dtype=tf.int64)
        for _ in range(PARALLEL_BRANCHES):  # unrolled at trace time: independent branches
            hits = tf.add(hits, _pi_ops(tf, step))
        return hits

    return {"function": function_pi, "while": while_pi, "parallel": parallel_pi}


def _device(device: str) -> str:
    return "/GPU:0" if device == "gpu" else "/CPU:0"


def pi_hits(n: int, seed: int, device: str = "cpu", mode: str = "eager") -> int:
    """Hits of about n shots in one of the talk's forms: eager, function, while, parallel."""
    import tensorflow as tf

    with tf.device(_device(device)):
        if mode == "eager":
            return int(_pi_ops(tf, n))
        graphs = _graphs()
        if mode == "function":
            return int(graphs["function"](tf.constant(n)))
        if mode == "while":
            per_loop = max(1, n // WHILE_LOOPS)
            return int(graphs["while"](tf.constant(per_loop), tf.constant(WHILE_LOOPS))) * n // (per_loop * WHILE_LOOPS)
        if mode == "parallel":
            step = max(1, n // PARALLEL_BRANCHES)
            return int(graphs["parallel"](tf.constant(step))) * n // (step * PARALLEL_BRANCHES)
    raise ValueError(f"unknown TensorFlow mode {mode!r}")


def pi_hits_tuned(n: int, seed: int, device: str = "cpu") -> int:
    import tensorflow as tf

    with tf.device(_device(device)):
        generator = tf.random.Generator.from_seed(seed)
        xy = generator.uniform([2, n], dtype=tf.float32)
        return int(tf.math.count_nonzero(xy[0] * xy[0] + xy[1] * xy[1] <= 1.0))


def count_ones(n: int, device: str = "cpu") -> int:
    import tensorflow as tf

    with tf.device(_device(device)):
        return int(tf.math.count_nonzero(tf.ones([n], dtype=tf.float64)))


def copy_in(array, device: str = "cpu"):
    import tensorflow as tf

    with tf.device(_device(device)):
        return tf.identity(tf.convert_to_tensor(array))


def copy_out(tensor):
    return tensor.numpy()


def synchronize(device: str) -> None:
    """Eager ops have finished when .numpy() returns; nothing else to wait for."""
