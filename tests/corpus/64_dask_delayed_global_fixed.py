# gilsafe corpus 64: lost update (fixed)
import dask

@dask.delayed
def process(x):
    return x * 2

results = dask.compute(*[process(i) for i in range(4)])
done = len(results)
