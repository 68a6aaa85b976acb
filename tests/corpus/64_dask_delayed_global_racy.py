# gilsafe corpus 64: lost update (racy)
import dask

done = 0

@dask.delayed
def process(x):
    global done
    done += 1  # expect: GS101
    return x * 2

dask.compute(*[process(i) for i in range(4)])
