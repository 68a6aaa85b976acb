# gilsafe corpus 59: warnings (racy)
import threading
import warnings

def load(path):
    with warnings.catch_warnings():  # expect: GS501
        warnings.simplefilter("ignore")
        return path.upper()

threading.Thread(target=load, args=("a.csv",)).start()
