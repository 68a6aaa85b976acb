# gilsafe corpus 59: warnings (racy)
import threading
import warnings

def load(path):
    with warnings.catch_warnings():  # expect: GS501
        warnings.simplefilter("ignore")
        return path.upper()

for name in ("a.csv", "b.csv"):
    threading.Thread(target=load, args=(name,)).start()
