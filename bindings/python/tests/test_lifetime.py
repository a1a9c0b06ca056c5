import mwtest
