# gilsafe corpus 59: warnings (fixed)
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

def load(path):
    return path.upper()

for name in ("a.csv", "b.csv"):
    threading.Thread(target=load, args=(name,)).start()
