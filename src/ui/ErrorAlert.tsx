/** A problem the user can act on, announced as an alert; renders nothing when there is none. */
export function ErrorAlert({ message }: { message: string | null | undefined }) {
  return message == null ? null : (
    <p className="error" role="alert">
      {message}
    </p>
  );
}
