# gilsafe corpus 59: warnings (fixed)
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

def load(path):
    return path.upper()

threading.Thread(target=load, args=("a.csv",)).start()
