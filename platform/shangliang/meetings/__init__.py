"""Consultation meetings (议事会): participants, minutes, the work list (工作清单), linked topics."""
