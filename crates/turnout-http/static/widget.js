// The registration widget: written in the next step.
