"""radar's detector suite: declarative rule files (`rules/*.toml`), shipped as package data.

Data only. The code that loads the rules and runs their validators lives in `radar.scan`.
"""
