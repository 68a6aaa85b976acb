# gilsafe corpus 65: lost update (racy)
import asyncio

stats = {"calls": 0}

def blocking_call():
    stats["calls"] += 1  # expect: GS101

async def main():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, blocking_call)
