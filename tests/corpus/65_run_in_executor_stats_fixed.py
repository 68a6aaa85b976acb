# gilsafe corpus 65: lost update (fixed)
import asyncio

stats = {"calls": 0}

def blocking_call():
    return 1

async def main():
    loop = asyncio.get_running_loop()
    stats["calls"] += await loop.run_in_executor(None, blocking_call)
