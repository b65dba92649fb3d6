import sys
from pathlib import Path

# pytest runs in importlib mode: make this folder's helper modules importable by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))
