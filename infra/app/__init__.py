"""The app layer: composes the stacks of an organisation from its plan and adds the checks."""
